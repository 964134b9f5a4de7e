/**
 * The search attributes haul sets on every pipeline workflow, so the Temporal UI and
 * `temporal workflow list --query "HaulPipeline='x'"` find a pipeline's runs.
 * Pure: imported by workflow code as well as by clients.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HaulPipeline = defineSearchAttributeKey('HaulPipeline', SearchAttributeType.KEYWORD);
export const HaulDataset = defineSearchAttributeKey('HaulDataset', SearchAttributeType.KEYWORD);
export const HaulDestination = defineSearchAttributeKey('HaulDestination', SearchAttributeType.KEYWORD);
/** sync | finish_pending | extract | normalize | load | refresh | compensate | done | failed */
export const HaulStage = defineSearchAttributeKey('HaulStage', SearchAttributeType.KEYWORD);
/** The load id of the newest package this run extracted or loaded. */
export const HaulLoadId = defineSearchAttributeKey('HaulLoadId', SearchAttributeType.KEYWORD);

/** Set by the server on every workflow a Schedule starts (backfills too): the time it was scheduled for. */
export const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const HAUL_SEARCH_ATTRIBUTES = [HaulPipeline, HaulDataset, HaulDestination, HaulStage, HaulLoadId] as const;

/** `--search-attribute` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return HAUL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
}
