// Public surface of the ingest stage (see README.md in this folder).
export { CameraSupervisor, KILL_GRACE_MS, type CameraSupervisorOptions } from './supervisor.ts';
export { cameraHlsDir, cameraRecordingDir, LIVE_PLAYLIST, segmentName, segmentSeq } from './paths.ts';
export { FrameSlot } from './frame-slot.ts';
export { BARCODE_LAYOUT, barcodeCellCenter, barcodeFilter, type BarcodeLayout } from './barcode.ts';
export { RecordingKeeper, type Reconciliation, type RetentionStep } from './retention.ts';
export type { RecordedSegment, RecordingIndex, RetentionBudget } from './recording-index.ts';
export { parsePlaylist, readPlaylist, type MediaPlaylist, type PlaylistSegment } from './hls-playlist.ts';
export { buildFfmpegArgs, TESTSRC, type DecodeMode, type SourceInfo } from './args.ts';
export { restartDelay } from '../backoff.ts';
export type { CameraSnapshot, CameraSupervisorEvents, Frame } from './types.ts';
export { checkFfmpeg, ffmpegSupport, parseFfmpegVersion, MIN_FFMPEG, FfmpegUnusableError, type FfmpegVersion } from './ffmpeg-version.ts';
export { videoPath, transcodeCores, TRANSCODE_CORES_1080P30 } from './transcode.ts';
export type { VideoPath } from './types.ts';
