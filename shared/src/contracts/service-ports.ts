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
