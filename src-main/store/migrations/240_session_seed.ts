// Schema v240 (simulator engineer): the random seed of a simulated session in its own column, so that a session,
// and a model trained on it, can be matched to the market path that produced it (`--seed N` repeats that path).
// Null for recorded and imported data. Sessions stored before this version kept the seed in their meta JSON:
// copied over.
export const version = 240;
export const name = 'session_seed';
export const up = `
ALTER TABLE sessions ADD COLUMN seed INTEGER;
UPDATE sessions SET seed = CAST(json_extract(meta, '$.seed') AS INTEGER)
  WHERE source = 'sim' AND json_valid(meta) AND json_type(meta, '$.seed') = 'integer';
`;
