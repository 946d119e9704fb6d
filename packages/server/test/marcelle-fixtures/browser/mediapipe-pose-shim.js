// @mediapipe/pose ships a script, not a module; Marcelle's pose detector (unused here) imports
// `Pose` from it, which a strict ES build refuses. This stands in for it in the test bundle.
export class Pose {
  constructor() {
    throw new Error('MediaPipe Pose is not bundled in this test page');
  }
}
