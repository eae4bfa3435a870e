#pragma once
// The model an edge runs (issue 15): the expert the server served, loaded
// from the reply's weights and swapped only once it loaded, run on the
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

  /// Keeps the model in `dir` across restarts: loads the one saved there,
  /// if any (returning its id, "" for none), and saves each one swapped in
  /// from now on. Throws std::runtime_error when `dir` cannot be made.
  std::string keep_in(const std::string& dir);

  /// The model running ("" = none yet).
  const std::string& id() const { return id_; }

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
  expert_options opts_;
  std::unique_ptr<expert> model_;
  std::string id_;
  std::string state_dir_;
  std::FILE* out_ = nullptr;
  bool own_out_ = false;
  double fps_;
  double next_ = 0;
  stats since_;
};

} // namespace recl
