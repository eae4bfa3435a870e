#pragma once
// The zoo's rules as plain C++, so that they can be tested exactly:
// admission (α, γ) and pruning (η, q). The zoo actor applies them and
// persists the outcome.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace recl {

/// The zoo's settings, with the paper's defaults.
struct zoo_options {
  double alpha = 0.02;    ///< promising: beats every other candidate by this
                          ///< much accuracy (absolute, 0.02 = 2 points)
  uint32_t gamma = 2;     ///< promising models admitted together
  uint32_t eta = 4;       ///< pruned when chosen fewer times than this ...
  uint32_t q = 3000;      ///< ... in the last q selections
  uint32_t samples = 256; ///< gating training frames kept
  uint32_t cache = 32;    ///< experts kept in memory
  /// The store's size on disk that admissions may not exceed (0: none):
  /// over it no expert is admitted and the least chosen is pruned.
  uint64_t budget_bytes = 0;
};

/// Whether a retrained model with accuracy `acc` is promising: it beats every
/// one of `others` by at least `alpha`. With no others it is promising.
bool promising(double acc, const std::vector<double>& others, double alpha);

/// The safety checker's choice among candidates scored on a window's
/// labelled frames (-1 = could not be scored): the index of the best one,
/// or `ids.size()` for "keep the edge's model". A candidate is served only if
/// it scores strictly higher than the edge's current model `current` (when
/// the edge runs one), so the answer is never worse than keeping. Ties go to
/// the earlier candidate (the selector's order).
size_t safety_choice(const std::vector<std::string>& ids,
                     const std::vector<float>& scores,
                     const std::string& current);

/// The same choice made on two disjoint sets of frames: the best candidate
/// by `pick` scores, served only if its `confirm` score is strictly higher
/// than the edge's current model's. The winner of many noisy comparisons is
/// on average worse than the score that made it win; a score on frames that
/// played no part in picking it is not.
size_t safety_choice(const std::vector<std::string>& ids,
                     const std::vector<float>& pick,
                     const std::vector<float>& confirm,
                     const std::string& current);

/// The camera's own line among `ids`: its last retrained model `own` if it
/// scored at least as well on `all` as the edge's model `current`, else
/// `current`; `ids.size()` when neither was scored.
size_t line_of(const std::vector<std::string>& ids,
               const std::vector<float>& all, const std::string& current,
               const std::string& own);

/// The camera's own line first: the default is the better on all frames of
/// the edge's model `current` and the camera's last retrained model `own`,
/// the retrained one on a tie (what AMS would deploy; retraining on the
/// camera's recent frames is expected to help, so it needs no
/// confirmation). Any other candidate
/// replaces that default only if it is the best by `pick` scores and beats
/// the default by `confirm` scores. Returns the index to serve, or
/// `ids.size()` for "keep the edge's model".
size_t lineage_choice(const std::vector<std::string>& ids,
                      const std::vector<float>& all,
                      const std::vector<float>& pick,
                      const std::vector<float>& confirm,
                      const std::string& current, const std::string& own);

/// Whether a queue of `queued` promising models is admitted (gamma).
inline bool admit_now(size_t queued, uint32_t gamma) {
  return queued >= gamma;
}

/// The last q selections (which model each window was served), with counts.
class selection_log {
public:
  explicit selection_log(uint32_t q) : q_(q == 0 ? 1 : q) {}

  /// Records selection number `seq` (strictly increasing) of `id`.
  /// Returns the sequence numbers that fell out of the window.
  std::vector<uint64_t> record(uint64_t seq, const std::string& id);

  /// Times `id` was chosen in the last q selections.
  uint32_t count(const std::string& id) const;

  /// Selections recorded so far (the next sequence number).
  uint64_t total() const { return total_; }

  /// The experts of `zoo` (id -> selection count when it was admitted) to
  /// prune: chosen fewer than `eta` times in the last q selections, judged
  /// only once q selections have been made since its admission.
  std::vector<std::string> to_prune(const std::map<std::string, uint64_t>& zoo,
                                    uint32_t eta) const;

  /// The expert of `zoo` (id -> selection count when admitted) to give up
  /// first for room: the least chosen in the last q selections, the oldest
  /// of equals; "" for an empty zoo.
  std::string least_chosen(const std::map<std::string, uint64_t>& zoo) const;

  uint32_t q() const { return q_; }

private:
  uint32_t q_;
  uint64_t total_ = 0;
  std::deque<std::pair<uint64_t, std::string>> recent_;
  std::map<std::string, uint32_t> counts_;
};

} // namespace recl
