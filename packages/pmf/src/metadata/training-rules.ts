/**
 * The cross-field rules a training section obeys: times and epochs in pairs, end needs
 * latest needs start, start ≤ latest ≤ end, no times while pending and no end while
 * pending or running, and the checkpoints agree with `latest` and `latest_epoch`.
 */
import type { CheckpointRecord, CheckpointReference, TrainingTimeline } from './pmf-metadata.js';

const STAGES = ['start', 'latest', 'end'] as const;

const article = (field: string) => (field.startsWith('end') ? 'an' : 'a');

/** Every rule the timeline breaks, as `[field, message]` pairs. */
export function timelineOffences(training: TrainingTimeline): Array<[string, string]> {
  const offences: Array<[string, string]> = [];
  for (const unit of ['time', 'epoch'] as const) {
    const other = unit === 'time' ? 'epoch' : 'time';
    const value = (stage: (typeof STAGES)[number]) => training[`${stage}_${unit}`];
    if (value('end') !== null && value('latest') === null) {
      offences.push([`end_${unit}`, `end_${unit} is set without a latest_${unit}`]);
    }
    if (value('latest') !== null && value('start') === null) {
      offences.push([`latest_${unit}`, `latest_${unit} is set without a start_${unit}`]);
    }
    if (value('end') !== null && value('start') === null) {
      offences.push([`end_${unit}`, `end_${unit} is set without a start_${unit}`]);
    }
    const [start, latest, end] = STAGES.map(value);
    if (start != null && latest != null && start > latest) {
      offences.push([`latest_${unit}`, `latest_${unit} (${latest}) is before start_${unit} (${start})`]);
    }
    if (latest != null && end != null && latest > end) {
      offences.push([`end_${unit}`, `end_${unit} (${end}) is before latest_${unit} (${latest})`]);
    }
    for (const stage of STAGES) {
      if (value(stage) !== null && training[`${stage}_${other}`] === null) {
        offences.push([`${stage}_${unit}`, `${stage}_${unit} is set without ${article(stage)} ${stage}_${other}`]);
      }
      if (value(stage) !== null && training.status === 'pending') {
        offences.push([`${stage}_${unit}`, `${stage}_${unit} is set while the status is pending`]);
      }
    }
    if (value('end') !== null && training.status === 'running') {
      offences.push([`end_${unit}`, `end_${unit} is set while the status is running`]);
    }
  }
  return offences;
}

/** The rules linking the checkpoints to `latest` and `latest_epoch`. */
export function checkpointOffences(
  latestEpoch: number | null,
  latest: CheckpointReference | null,
  checkpoints: ReadonlyMap<CheckpointReference, Pick<CheckpointRecord, 'epoch'>>,
): Array<[string, string]> {
  const offences: Array<[string, string]> = [];
  if (latest !== null && !checkpoints.has(latest)) {
    offences.push(['latest', `latest names ${describeReference(latest)}, which is not a registered checkpoint`]);
  }
  if (latestEpoch !== null) {
    for (const [reference, checkpoint] of checkpoints) {
      if (checkpoint.epoch > latestEpoch) {
        offences.push([
          `checkpoints.${reference}.epoch`,
          `checkpoint ${describeReference(reference)} has epoch ${checkpoint.epoch}, after latest_epoch ${latestEpoch}`,
        ]);
      }
    }
  }
  return offences;
}

/** A reference as a reader would type it: strings quoted, integers bare. */
export function describeReference(reference: CheckpointReference): string {
  return typeof reference === 'string' ? `"${reference}"` : String(reference);
}
