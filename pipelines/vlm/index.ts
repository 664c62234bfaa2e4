// The questions-and-answers layer, as later stages (rules, scheduler, CLI) use it:
//   prepareImage(jpeg, engine.info)           -> { image, sent, source }   (once per frame)
//   buildQuestion(kind, text, { family, ... }) -> EngineQuestion           (once per standing question)
//   engine.ask({ frames: [image], questions })  -> EngineAnswer[]
//   parseAnswer(answer.raw, { family, sent, source }, kind) -> { boxes, points, count?, answer?, ... }
export { prepareImage, prepareFrames, sentSize, type PreparedImage, type Size, type GridInfo } from './image.ts';
export { buildQuestion, isQuestionKind, QUESTION_KINDS, LIMITS, type QuestionKind, type QuestionOptions } from './questions.ts';
export { parseAttributeSpec, type AttributeSpec, type AttributeType } from './attributes.ts';
export { parseAnswer, type ParsedAnswer, type ParseContext, type Box, type Point } from './parse.ts';
export { boxToSource, pointToSource, mapX, mapY, type Mapping } from './coords.ts';
export { FAMILIES, FAMILY_NAMES, isModelFamily, type FamilyTraits } from './families.ts';
export { readJsonValues, isComplete } from './lenient-json.ts';
export { smartResize, roundHalfEven, QWEN25_GRID } from '../grid.ts';
export { annotate } from './annotate.ts';
