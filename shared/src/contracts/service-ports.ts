/**
 * The ports each service listens on unless told otherwise (docs/ARCHITECTURE.md, Ports): the
 * defaults of the services' configs, the ports of docker-compose.yml and k8s/ (checked by
 * k8s/deploy-contract.ts), and those the dev launcher and the demo use. `admin` is the
 * rating-worker's operator page (bull-board over the rating queues), never routed by an Ingress.
 */
export const SERVICE_PORTS = {
  collector: { http: 8081, grpc: 50051, ops: 9091 },
  'sink-worker': { grpc: 50052, ops: 9092 },
  'rating-worker': { grpc: 50053, ops: 9093, admin: 9095 },
  gateway: { http: 8080, ops: 9094 },
} as const satisfies Record<string, { http?: number; grpc?: number; ops: number; admin?: number }>;

/**
 * Node flags each service's process starts with, in every way it is run: the image's command
 * (docker-compose.yml, k8s, checked by k8s/deploy-contract.ts) and the local launcher.
 *
 * The sink caps its V8 heap. Left alone, V8 let the heap grow to ~770 MiB RSS under load
 * (bench:pipeline) although what the sink holds at once is bounded: two flushes of at most
 * SINK_FLUSH_MAX_BYTES and a fetch. With 320 MiB of old space its RSS peaked at 429–455 MiB at the
 * same speed (384: 472–512; it ran at 160 too). The identity filters are typed arrays, outside
 * this limit (1.25 MB per million identities in the window, README "Sink").
 */
export const SERVICE_NODE_FLAGS = {
  collector: [],
  'sink-worker': ['--max-old-space-size=320'],
  'rating-worker': [],
  gateway: [],
} as const satisfies Record<keyof typeof SERVICE_PORTS, readonly string[]>;
