#pragma once
// Labelled frames in a plain binary file, so that the model library and its
// benchmark can run where only LibTorch exists (the accelerator machines):
// frames are prepared here with OpenCV and the teacher, read there without.
//
// Layout (little-endian): "RECLFRM1", u32 count, then per frame: i32 width,
// i32 height, width*height*3 BGR bytes, u32 boxes, per box 5 f32 + i32.

#include "gpu/trainer.hpp"

#include <string>

namespace recl {

/// Writes frames and labels; throws std::runtime_error on failure.
void write_frames_file(const std::string& path, const labelled_frames& x);

/// Reads a file written by write_frames_file; throws std::runtime_error
/// naming the path on a missing, truncated or foreign file.
labelled_frames read_frames_file(const std::string& path);

} // namespace recl
