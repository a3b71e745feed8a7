// @polaris/cli/dead-letter: the DLQ tools as functions (`polaris dlq list|show|replay|skip`), for
// callers that check the dead-letter topic from code (the e2e fault suite).
export { parseDeadLetterId, formatDeadLetterId, organizationOf, type DeadLetter, type DeadLetterId, type ReplayRecord } from './dead-letter';
export { listDeadLetters, type DeadLetterSummary, type ListRequest } from './dead-letter-list';
export { showDeadLetters } from './dead-letter-show';
export { replayDeadLetters, type ReplayRequest, type ReplayResult } from './dead-letter-replay';
export { skipMessage, type SkipRequest, type SkipResult } from './dead-letter-skip';
