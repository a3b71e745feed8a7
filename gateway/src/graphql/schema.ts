// The public GraphQL contract. Kept as a string so the bundled service carries it.
export const typeDefs = /* GraphQL */ `
"""
Polaris public API. Every field is scoped to the organization of the API key sent as
Authorization: Bearer <key>; there is no argument that selects another organization.
"""
scalar DateTime
scalar JSONObject

type Query {
  "The organization the API key belongs to."
  me: Organization!
  "Usage of one event type over [from, to), optionally per window and per subject. Needs usage:read."
  usage(
    eventType: String!
    from: DateTime!
    to: DateTime!
    windowSize: WindowSize = NONE
    aggregation: Aggregation = COUNT
    "Top-level numeric property of the event data to sum; required with SUM."
    valueProperty: String
    subjects: [String!]
    groupBySubject: Boolean = false
  ): UsageResult!
}

type Mutation {
  "Records one usage event. Idempotent by (source, id): sending it again changes nothing. Needs events:write."
  recordUsage(input: RecordUsageInput!): RecordUsagePayload!
}

type Organization {
  id: ID!
  slug: String!
  name: String!
  createdAt: DateTime!
}

enum WindowSize {
  NONE
  MINUTE
  HOUR
  DAY
}

enum Aggregation {
  COUNT
  SUM
}

type UsageResult {
  rows: [UsageRow!]!
  "Events whose valueProperty was missing or not a number; they are not summed."
  invalidValueCount: String!
}

type UsageRow {
  windowStart: DateTime!
  windowEnd: DateTime!
  "Empty unless groupBySubject is true."
  subject: String!
  "Exact decimal as a string."
  value: String!
  eventCount: String!
}

input RecordUsageInput {
  "Idempotency key: unique per source."
  id: ID!
  source: String = "graphql"
  type: String!
  subject: String!
  "Defaults to now."
  time: DateTime
  data: JSONObject
}

type RecordUsagePayload {
  accepted: Int!
}
`;
