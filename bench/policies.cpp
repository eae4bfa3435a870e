// recl-bench's policies: RECL, its variants and its baselines, each as the
// recld settings that make it.

#include "bench/policies.hpp"

namespace recl::bench {

namespace {

/// recld's settings for a selector and scheduler, no generalist, plus
/// `extra`.
std::vector<std::string> with(const char* selector, const char* scheduler,
                              std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--selector", selector,       "--scheduler",
                                scheduler,    "--generalist", "off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// The rules RECL ran by until 2026-12-01, which the baselines keep: the
/// scheduler's exact argmax over gains measured on the held-out quarter,
/// the safety check's best-on-all-frames, and admission judged on the
/// held-out quarter (RECL's own changes are not handed to the policies it
/// is compared with).
std::vector<std::string> paper_rules(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
    "--gain-tolerance", "0",   "--gain-frames", "holdout",
    "--selection",      "all", "--admission",   "holdout"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

} // namespace

const std::vector<policy>& all_policies() {
  static const std::vector<policy> xs{
    {"recl", with("gating", "recl"), "gating-network reuse + Algorithm 1"},
    {"recl-v0", with("gating", "recl", paper_rules()),
     "RECL as before 2026-12-01: exact argmax on held-out gains, best on "
     "all frames"},
    {"recl-sched",
     with("gating", "recl", {"--selection", "all", "--admission", "holdout"}),
     "RECL with the new scheduler only"},
    {"recl-noconfirm", with("gating", "recl", {"--selection", "all"}),
     "RECL, but the safety check serves the best on all frames"},
    {"recl-confirm", with("gating", "recl", {"--selection", "confirm"}),
     "RECL, but a switch is confirmed against the edge's model, not the "
     "camera's own line"},
    {"recl-line", with("gating", "recl", {"--train-from", "line"}),
     "RECL, but retraining starts from the camera's own line even when a "
     "zoo expert was served"},
    {"recl-holdout", with("gating", "recl", {"--admission", "holdout"}),
     "RECL, but admission is judged on the held-out quarter"},
    {"recl-generalist",
     {"--selector", "gating", "--scheduler", "recl", "--generalist", "on"},
     "RECL with the fleet generalist"},
    {"ams", with("none", "round-robin", paper_rules()),
     "no reuse, round-robin retraining"},
    {"ekya", with("none", "ekya", paper_rules({"--profile-epochs", "1"})),
     "no reuse, micro-profiling + thief"},
    {"recl-noreuse", with("none", "recl"),
     "Algorithm 1 without reuse (the scheduler alone)"},
    {"selectors", with("compare", "recl"),
     "RECL, also scoring gating / ODIN / oracle picks on the same zoo"},
    {"ekya-p5", with("none", "ekya", paper_rules({"--profile-epochs", "5"})),
     "Ekya with 5 profiling epochs"},
    {"ekya-p10", with("none", "ekya", paper_rules({"--profile-epochs", "10"})),
     "Ekya with 10 profiling epochs"},
    // Ablations (experiment 6): RECL with one setting changed.
    {"recl-eta0", with("gating", "recl", {"--eta", "0"}),
     "RECL without pruning (eta 0)"},
    {"recl-alpha0.1", with("gating", "recl", {"--alpha", "0.1"}),
     "RECL admitting only experts 0.1 better than every rival"},
    {"recl-alpha0", with("gating", "recl", {"--alpha", "0"}),
     "RECL admitting every retrained model that beats every rival"},
    {"recl-top1", with("gating", "recl", {"--top-k", "1"}),
     "RECL checking only gating's first choice"},
    {"odin", with("odin", "recl", paper_rules()),
     "autoencoder selection (+ retraining)"},
    {"oracle", with("oracle", "recl", paper_rules()),
     "every zoo expert evaluated (upper bound of selection)"},
    {"generalist",
     paper_rules(
       {"--selector", "none", "--camera-jobs", "off", "--generalist", "on"}),
     "one model retrained on every camera's windows, no zoo"},
    {"one-time",
     paper_rules(
       {"--selector", "none", "--retrain-windows", "1", "--generalist", "off"}),
     "retrained on each camera's first window only"},
    {"none",
     paper_rules(
       {"--selector", "none", "--retrain", "off", "--generalist", "off"}),
     "no adaptation: the base expert"},
  };
  return xs;
}

} // namespace recl::bench
