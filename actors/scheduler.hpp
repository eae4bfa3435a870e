#pragma once
// Who gets the device next: the GPU-owner's scheduling policies as plain
// C++ (no actors, no models), so they can be tested with known gain curves.
//
// Time is counted in clock units: seconds with the wall clock, micro-windows
// with the replay clock. Every retraining job lives until its deadline (its
// window's budget, T). A grant is one micro-window for one job; after it the
// caller reports the job's accuracy before and after and what it cost.
//
// Policies:
//  - recl (Algorithm 1): every new job gets one micro-window to initialise
//    its gain; then always the job with the largest gain per unit of time,
//    as long as a micro-window still fits before its deadline. A gain is
//    measured on a handful of frames, so it is noisy: gains within
//    `gain_tolerance` of the largest count as ties, and a tie goes to the
//    job trained least. Where the device cannot tell jobs apart it then
//    shares it fairly, which is what maximises a sum of concave curves; an
//    exact argmax over noise starves jobs at random instead (measured in
//    docs/FINDINGS.md: 0.034 mAP below round-robin). 0 is the paper's
//    exact argmax.
//  - round-robin (AMS): jobs take turns in arrival order.
//  - fair: equal shares; the job with the least device time so far goes.
//  - ekya: each new job is first micro-profiled out of band (a copy trains
//    on a subset for `profile_epochs`, which spends budget); the curve
//    1 - (1/(b0*x + b1) + b2) is fitted to the profile; the remaining budget
//    is split by Ekya's thief rule (start equal, move one micro-window from
//    a victim to a thief while the predicted total accuracy rises); jobs are
//    then granted their allocation.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace recl {

enum class sched_policy { recl, round_robin, fair, ekya };

/// Parses "recl", "round-robin", "fair" or "ekya"; throws
/// std::invalid_argument naming the choices.
sched_policy parse_sched_policy(const std::string& name);

const char* to_string(sched_policy x);

/// What the scheduler grants.
struct grant {
  std::string job;
  bool profile = false; ///< an Ekya profiling epoch, not training
};

/// A fitted Ekya curve: accuracy after x epochs.
struct ekya_curve {
  double b0 = 1, b1 = 1, b2 = 0;
  double operator()(double x) const;
};

/// Fits 1 - (1/(b0*x + b1) + b2) to (epochs, accuracy) points by least
/// squares (b2 in closed form over a grid of b0, b1).
ekya_curve fit_ekya(const std::vector<double>& x, const std::vector<double>& y);

/// The state of one job, as the scheduler sees it.
struct sched_job {
  std::string id;
  double deadline = 0;
  double arrived = 0;
  uint64_t order = 0; ///< arrival order
  bool initialised = false;
  double gain = 0;      ///< last measured gain per unit
  double last_cost = 0; ///< cost of its last micro-window
  double acc = -1;      ///< last measured accuracy
  double used = 0;      ///< device time spent training it
  uint32_t grants = 0;  ///< micro-windows trained
  // Ekya
  std::vector<double> profile; ///< accuracy after each profiling epoch
  double profile_acc0 = -1;    ///< accuracy before profiling
  double allocation = 0;       ///< micro-windows allotted by the thief
};

/// One scheduler per GPU owner.
class scheduler {
public:
  explicit scheduler(sched_policy p, uint32_t profile_epochs = 5,
                     double gain_tolerance = 0);

  sched_policy policy() const { return policy_; }

  /// A new job, alive until `deadline`.
  void add(const std::string& id, double now, double deadline);

  /// Removes a job (ended or superseded). Unknown ids are ignored.
  void remove(const std::string& id);

  /// Jobs whose deadline has passed at `now`, oldest first; they are removed.
  std::vector<std::string> expire(double now);

  /// The next grant at `now`, or none when no job can use the device.
  std::optional<grant> next(double now);

  /// What a grant did: accuracy on the held-out slice before and after and
  /// its cost in clock units.
  void report(const grant& g, double acc_before, double acc_after, double cost);

  const std::map<std::string, sched_job>& jobs() const { return jobs_; }

  /// Device time spent on profiling (Ekya) and on training, all jobs.
  double profiling_spent() const { return profiling_; }
  double training_spent() const { return training_; }

private:
  void reallocate(double now); // Ekya's thief

  /// The live jobs in arrival order.
  using live_jobs = std::vector<sched_job*>;

  /// Whether one more micro-window of `j` fits before its deadline.
  bool fits(const sched_job* j, double now) const;

  /// The fitting job that `better` ranks first, or nullptr.
  template <class Better>
  sched_job* first_fitting(const live_jobs& live, double now,
                           Better better) const {
    sched_job* pick = nullptr;
    for (auto j : live)
      if (fits(j, now) && (pick == nullptr || better(j, pick)))
        pick = j;
    return pick;
  }

  // next() for each policy.
  std::optional<grant> next_recl(const live_jobs& live, double now);
  std::optional<grant> next_round_robin(const live_jobs& live, double now);
  std::optional<grant> next_ekya(const live_jobs& live, double now);

  sched_policy policy_;
  uint32_t profile_epochs_;
  double gain_tolerance_; // recl: gains this close to the best are ties
  std::map<std::string, sched_job> jobs_;
  uint64_t next_order_ = 0;
  uint64_t turn_ = 0; // round-robin: the next job's order at the least
  double profiling_ = 0;
  double training_ = 0;
  double typical_cost_ = 0; // last micro-window's cost, any job
  bool dirty_ = true;       // Ekya: allocation out of date
};

} // namespace recl
