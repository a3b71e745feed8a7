import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

const NAME = 'PolarisSingleReader';
const VERSION = 0;

/**
 * A consumer-group assignment that gives every partition to one member (the first by member id)
 * and none to the others. The watcher counts an organization's dead letters across all
 * partitions (a letter's partition follows its event's key, not its organization), so one reader
 * must see them all; every rating-worker replica joins, the others stand by, and the group hands
 * the partitions to one of them when the reader leaves or dies. Dead letters are few: one reader
 * keeps up.
 */
export const singleReaderAssigner: PartitionAssigner = ({ cluster }) => ({
  name: NAME,
  version: VERSION,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const reader = ids[0];
    const everything = Object.fromEntries(topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b)]));
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment: memberId === reader ? everything : {}, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.alloc(0) }) };
  },
});
