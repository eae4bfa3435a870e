#pragma once
// The model an edge runs (issue 15): the expert the server served, loaded
// from the reply's weights, or built from a model update (a delta against
// the model it runs, checked against the served model's content hash;
// schema/model_update.hpp), and swapped only once that worked; run on the
// edge's own frames at the operating point. Its detections go out as JSON
// lines: {"t": stream seconds, "model": id, "boxes": [[x0, y0, x1, y1,
// score, class], ...]}.

#include "gpu/expert.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace recl {

class annotator;

class edge_model {
public:
  /// `detections`: a file for the JSON lines, "-" for stdout, "" for none.
  /// `fps`: frames per stream second to run on (0: every frame given).
  /// Throws std::runtime_error when the file cannot be opened.
  edge_model(expert_options opts, const std::string& detections, double fps);
  ~edge_model();

  edge_model(const edge_model&) = delete;
  edge_model& operator=(const edge_model&) = delete;

  /// Runs model `id` from now on, loaded from `weights`. On failure the
  /// current model stays and the reason is returned ("" = swapped). With a
  /// state directory, the model is saved there (replaced atomically).
  std::string swap(const std::string& id, const std::vector<uint8_t>& weights);

  /// What applying a model update did.
  struct update_result {
    std::string error;  ///< "" = swapped; else why the old model stays
    bool delta = false; ///< built on the model that ran (else full)
    size_t tensors = 0; ///< tensors the update carried
  };

  /// Runs model `id` from now on, made by applying the encoded update
  /// `bytes` to the current model. On any failure (damaged, for another
  /// model, a hash that does not match) the current model stays.
  update_result swap_update(const std::string& id,
                            const std::vector<uint8_t>& bytes);

  /// Also writes every frame the model runs on, with its boxes drawn, to
  /// the video `path` (edge/annotate.hpp). Throws std::runtime_error when
  /// it cannot be written.
  void annotate_to(const std::string& path);

  /// Keeps the model in `dir` across restarts: loads the one saved there,
  /// if any (returning its id, "" for none), and saves each one swapped in
  /// from now on. Throws std::runtime_error when `dir` cannot be made.
  std::string keep_in(const std::string& dir);

  /// The model running ("" = none yet).
  const std::string& id() const { return id_; }

  /// Its content hash ("" = none yet).
  const std::string& hash() const { return hash_; }

  /// The model itself (nullptr = none yet), e.g. to score it in a bench.
  expert* model() { return model_.get(); }

  /// Runs the model on a BGR frame at stream time `t` (seconds), when one
  /// is loaded and the frame is due under `fps`.
  void run(const cv::Mat& frame, double t);

  /// What the model did since the last call.
  struct stats {
    uint64_t frames = 0;
    double ms = 0; ///< inference time, all frames
    uint64_t boxes = 0;
  };
  stats take();

private:
  void install(const std::string& id, std::unique_ptr<expert> next,
               std::string hash);

  expert_options opts_;
  std::unique_ptr<expert> model_;
  std::string id_;
  std::string hash_;
  std::string state_dir_;
  std::unique_ptr<annotator> video_;
  std::FILE* out_ = nullptr;
  bool own_out_ = false;
  double fps_;
  double next_ = 0;
  stats since_;
};

} // namespace recl
