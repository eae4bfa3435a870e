#pragma once
// An expert: the small detector an edge runs. YOLOX-Nano's architecture and
// COCO weights at a lower, aspect-preserving input size (default 256x160,
// ~4x cheaper than the teacher at 416x416). This header is free of LibTorch
// so that any layer (and the tests) can use experts.

#include "gpu/detection.hpp"
#include "gpu/image.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// How an expert runs.
struct expert_options {
  int input_width = 256;  ///< multiple of 32
  int input_height = 160; ///< multiple of 32
  float score_threshold = 0.3f;
  float nms_threshold = 0.45f;
  std::vector<int> classes = default_classes(); ///< COCO classes reported
};

/// Lowest score of the detections `expert::detect_for_scoring` reports.
inline constexpr float scoring_score_threshold = 0.01f;
/// Most detections per frame `expert::detect_for_scoring` reports (COCO's
/// limit).
inline constexpr size_t scoring_max_per_frame = 100;

/// One parameter or buffer of an expert, as plain bytes: what a model
/// update (schema/model_update.hpp) carries.
struct named_tensor {
  enum class type : uint8_t { f32 = 1, f16 = 2, i64 = 3 };
  std::string name; ///< e.g. "dark3.m.0.conv1.conv.weight"
  type dtype = type::f32;
  std::vector<int64_t> shape;
  std::string bytes; ///< row-major, little-endian, as the host stores them
};

/// A detector with its weights resident on the device. Not thread-safe.
class expert {
public:
  /// Loads the LibTorch archive written by `recl-convert` (or `save`).
  /// Throws std::runtime_error naming the file on failure.
  static std::unique_ptr<expert> load(const std::string& path,
                                      const expert_options& opts = {});

  /// Restores an expert from `to_bytes()`; throws std::runtime_error.
  static std::unique_ptr<expert> from_bytes(std::string_view bytes,
                                            const expert_options& opts = {});

  ~expert();

  /// All parameters and buffers, bit-exact, as a LibTorch archive.
  std::string to_bytes() const;

  /// An expert of the same architecture with freshly initialised weights,
  /// to assign() every tensor to.
  static std::unique_ptr<expert> blank(const expert_options& opts = {});

  /// Every parameter and buffer, in a fixed order (parameters, then
  /// buffers, each in registration order). With `half`, floating-point
  /// tensors come as f16 (rounded to nearest even).
  std::vector<named_tensor> tensors(bool half = false) const;

  /// Overwrites the named tensors (any subset; f16 is widened). Checks every
  /// one before changing any: an unknown name, a wrong shape or type, or a
  /// byte count that does not match throws std::invalid_argument and changes
  /// nothing.
  void assign(const std::vector<named_tensor>& some);

  /// Writes `to_bytes()` to a file.
  void save(const std::string& path) const;

  /// A deep copy (own weights).
  std::unique_ptr<expert> clone() const;

  /// Moves every parameter and floating-point buffer toward `other`'s:
  /// w = (1 - t) * w + t * other.w (t = 0 keeps this expert, 1 copies
  /// `other`). Interpolating a fine-tuned model with the weights it started
  /// from keeps most of the gain where it was trained and forgets less
  /// elsewhere (WiSE-FT, Wortsman et al. 2022). Throws std::invalid_argument
  /// when t is outside [0, 1] or the architectures differ.
  void blend(const expert& other, double t);

  /// Detects objects at the operating point (`score_threshold`); boxes are
  /// in each frame's pixels.
  std::vector<std::vector<box>> detect(const std::vector<image>& frames,
                                       size_t batch = 16);

  /// Detections for accuracy scoring: every box down to
  /// `scoring_score_threshold`, at most `scoring_max_per_frame` per frame
  /// (highest scores kept), as COCO's AP ranks all of a detector's output.
  /// Cutting at the operating point instead would truncate the
  /// precision-recall curve and understate AP.
  std::vector<std::vector<box>>
  detect_for_scoring(const std::vector<image>& frames, size_t batch = 16);

  const expert_options& options() const;

  /// Number of learnable parameters.
  int64_t parameter_count() const;

  struct impl;
  impl& internals();

private:
  explicit expert(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace recl
