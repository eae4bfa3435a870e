#pragma once
// The server's modes as enums: each parsed once from its setting (recld's
// flags and config file) and compared as a value everywhere else.
// parse_* throws std::invalid_argument naming the choices.

#include <string>
#include <vector>

namespace recl {

/// What a job's budget is measured in: wall seconds (live) or granted
/// micro-windows (replay: evaluation; a camera's next window waits for its
/// job).
enum class clock_kind { wall, replay };

/// How the top-K zoo experts are proposed: the gating network, ODIN's
/// autoencoder, every expert (oracle), none, or gating's pick served with
/// ODIN's and the best expert's scores reported alongside (compare).
enum class selector_kind { gating, odin, oracle, none, compare };

/// What a micro-window's gain is measured on: all the window's frames, or
/// its held-out quarter (2 of 10 frames: too few to rank jobs on).
enum class gain_frames { window, holdout };

/// The safety check's rule (zoo_policy.hpp): `lineage` serves the camera's
/// own line (the better on all frames of the edge's model and its last
/// retrained one) unless another candidate wins on one half of the frames
/// and beats that line on the other; `confirm` is the same against the
/// edge's model alone; `all` serves the best on all frames if it beats the
/// edge's model there (the winner of many noisy comparisons looks better
/// than it is).
enum class selection_rule { lineage, confirm, all };

/// When a retrained model is judged promising (it beats every rival by
/// alpha): `next`, at the camera's next window, on frames it never trained
/// on, against that window's candidates; or `holdout`, when its job ends,
/// on its window's held-out quarter.
enum class admission_rule { next, holdout };

/// What a window's retraining job starts from: `served`, the model the
/// safety check served (the paper: the reused expert is the starting
/// point); or `line`, the camera's own line (zoo_policy.hpp's line_of) even
/// when a zoo expert was served, so that a camera's training accumulates
/// in one line while reuse covers the windows until it catches up.
enum class train_start { served, line };

clock_kind parse_clock(const std::string& name);
selector_kind parse_selector(const std::string& name);
gain_frames parse_gain_frames(const std::string& name);
selection_rule parse_selection(const std::string& name);
admission_rule parse_admission(const std::string& name);
train_start parse_train_start(const std::string& name);

/// The devices of --devices, one GPU owner each: "cpu" (one owner on the
/// CPU), "cpu:N" (the CPU split into N owners: cpu:0 ... cpu:N-1, for tests
/// and benchmarks), "cuda:K", or a comma-separated list of those. Checks
/// the form only (whether a CUDA device exists is checked when its owner
/// starts).
std::vector<std::string> parse_devices(const std::string& list);

const char* to_string(clock_kind x);
const char* to_string(selector_kind x);
const char* to_string(gain_frames x);
const char* to_string(selection_rule x);
const char* to_string(admission_rule x);
const char* to_string(train_start x);

} // namespace recl
