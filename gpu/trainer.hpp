#pragma once
// Training an expert for one micro-window: exactly what Algorithm 1's
// PROCESSREQUEST needs. A trainer keeps its expert, its optimizer state and
// its (already letterboxed) frames resident, so switching between trainers
// costs nothing but a function call. Free of LibTorch in this header.

#include "gpu/expert.hpp"
#include "gpu/image.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recl {

/// Frames with the teacher's boxes.
struct labelled_frames {
  std::vector<image> frames;
  std::vector<std::vector<box>> labels; ///< same order as frames
};

/// How a trainer trains.
struct train_options {
  size_t batch = 8;
  /// "adam" or "sgd" (momentum 0.9). With BatchNorm folded into the
  /// convolutions, plain SGD at YOLOX's learning rate wrecks the pretrained
  /// weights in one epoch; Adam at 1e-4 after a warm-up does not (see
  /// bench/specialise.cpp).
  std::string optimizer = "adam";
  double lr = 1e-4;      ///< learning rate after warm-up
  int warmup_steps = 20; ///< linear warm-up from lr/10 (guards the
                         ///< first steps on near-identical frames)
  double weight_decay = 5e-4;
  /// Frames of base (replay) data mixed into each epoch, as a share of the
  /// window's frames; keeps a fine-tune from forgetting what it knew.
  double replay_share = 0.25;
  bool flip = true; ///< random horizontal flips
  /// Backbone stages left as they are (0: train everything; 1: the stem
  /// and the first stage; 2: also the second; 3: also the third; 4: the
  /// whole backbone, only the neck and head learn). The early, high-resolution
  /// layers are general-purpose and the most expensive to back-propagate
  /// through on a CPU; their output is computed once per job (per frame and
  /// flip) and reused on every step. Measured (recl-bench-specialise, 6
  /// places): 2 gains more car AP after 1/3/10/30 epochs (+0.16 / +0.23 /
  /// +0.25 / +0.27) than 0 (+0.02 / +0.11 / +0.22 / +0.26), and a 32-frame
  /// micro-window trains in 0.78 s instead of 1.3 s on 2 cores.
  int frozen_stages = 2;
  /// Keep an exponential moving average of the weights (0: off; e.g. 0.99
  /// averages over roughly the last 100 steps). When on, evaluate(),
  /// model() and release() see the average, not the last step's weights,
  /// as YOLOX's own training does.
  double average_decay = 0;
  uint64_t seed = 1;
};

/// Most backbone stages a trainer can leave as they are.
inline constexpr int max_frozen_stages = 4;

/// What one micro-window did.
struct step_result {
  double acc_before = 0; ///< accuracy on the held-out slice before
  double acc_after = 0;  ///< and after
  double gain_per_s = 0; ///< (after - before) / seconds, Algorithm 1's gain
  double seconds = 0;    ///< training time, evaluation excluded
  double loss = 0;       ///< mean training loss
  size_t images = 0;     ///< images trained on
};

/// Accuracy of detections against truth: mAP@0.5 over classes with enough
/// boxes, or, when the truth is too sparse for that, the mean per-frame
/// score.
double detection_accuracy(const std::vector<std::vector<box>>& dets,
                          const std::vector<std::vector<box>>& truth);

/// One retraining job's resident state.
class trainer {
public:
  /// Takes ownership of `model`. `train` is what it learns from, `holdout`
  /// what measures it, `replay` optional base data.
  trainer(std::unique_ptr<expert> model, labelled_frames train,
          labelled_frames holdout, train_options opts = {},
          labelled_frames replay = {});
  ~trainer();

  /// Accuracy on the held-out slice now.
  double evaluate();

  /// One micro-window: evaluate, train one epoch, evaluate.
  step_result micro_window();

  /// Trains `epochs` epochs without evaluating; returns the mean loss.
  double train_epochs(int epochs);

  /// The model (still owned by the trainer): the weights' average when
  /// `average_decay` is on.
  expert& model();

  /// Parameters the optimizer updates (fewer with frozen stages).
  size_t trainable_parameters() const;

  /// Gives the model up; the trainer is spent afterwards.
  std::unique_ptr<expert> release();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace recl
