#include "actors/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace recl {

sched_policy parse_sched_policy(const std::string& name) {
  if (name == "recl")
    return sched_policy::recl;
  if (name == "round-robin")
    return sched_policy::round_robin;
  if (name == "fair")
    return sched_policy::fair;
  if (name == "ekya")
    return sched_policy::ekya;
  throw std::invalid_argument("unknown scheduler '" + name
                              + "' (recl, round-robin, fair or ekya)");
}

const char* to_string(sched_policy x) {
  switch (x) {
  case sched_policy::recl:
    return "recl";
  case sched_policy::round_robin:
    return "round-robin";
  case sched_policy::fair:
    return "fair";
  case sched_policy::ekya:
    return "ekya";
  }
  return "?";
}

double ekya_curve::operator()(double x) const {
  return 1.0 - (1.0 / (b0 * x + b1) + b2);
}

ekya_curve fit_ekya(const std::vector<double>& x,
                    const std::vector<double>& y) {
  ekya_curve best;
  if (x.empty() || x.size() != y.size())
    return best;
  double best_err = std::numeric_limits<double>::infinity();
  // 1 - 1/(b0 x + b1) - b2 = y  =>  b2 = mean(1 - 1/(b0 x + b1) - y).
  for (int i = 0; i <= 50; ++i) {
    double b0 = std::pow(10.0, -3.0 + 5.0 * i / 50);
    for (int j = 0; j <= 50; ++j) {
      double b1 = std::pow(10.0, -2.0 + 4.0 * j / 50);
      double b2 = 0;
      for (size_t k = 0; k < x.size(); ++k)
        b2 += 1.0 - 1.0 / (b0 * x[k] + b1) - y[k];
      b2 /= static_cast<double>(x.size());
      ekya_curve c{b0, b1, b2};
      double err = 0;
      for (size_t k = 0; k < x.size(); ++k)
        err += (c(x[k]) - y[k]) * (c(x[k]) - y[k]);
      if (err < best_err - 1e-15) {
        best_err = err;
        best = c;
      }
    }
  }
  return best;
}

scheduler::scheduler(sched_policy p, uint32_t profile_epochs,
                     double gain_tolerance)
  : policy_(p), profile_epochs_(std::max<uint32_t>(1, profile_epochs)),
    gain_tolerance_(std::max(0.0, gain_tolerance)) {}

void scheduler::add(const std::string& id, double now, double deadline) {
  sched_job j;
  j.id = id;
  j.arrived = now;
  j.deadline = deadline;
  j.order = next_order_++;
  jobs_[id] = std::move(j);
  dirty_ = true;
}

void scheduler::remove(const std::string& id) {
  jobs_.erase(id);
  dirty_ = true;
}

std::vector<std::string> scheduler::expire(double now) {
  std::vector<const sched_job*> gone;
  for (auto& kv : jobs_)
    if (kv.second.deadline <= now)
      gone.push_back(&kv.second);
  std::sort(gone.begin(), gone.end(),
            [](auto a, auto b) { return a->order < b->order; });
  std::vector<std::string> ids;
  for (auto j : gone)
    ids.push_back(j->id);
  for (auto& id : ids)
    remove(id);
  return ids;
}

bool scheduler::fits(const sched_job* j, double now) const {
  double est = j->last_cost > 0 ? j->last_cost : typical_cost_;
  return now + est <= j->deadline + 1e-9;
}

std::optional<grant> scheduler::next(double now) {
  live_jobs live;
  for (auto& kv : jobs_)
    if (kv.second.deadline > now)
      live.push_back(&kv.second);
  if (live.empty())
    return std::nullopt;
  std::sort(live.begin(), live.end(),
            [](auto a, auto b) { return a->order < b->order; });
  switch (policy_) {
  case sched_policy::recl:
    return next_recl(live, now);
  case sched_policy::round_robin:
    return next_round_robin(live, now);
  case sched_policy::fair: {
    auto pick = first_fitting(
      live, now, [](auto a, auto b) { return a->used < b->used - 1e-12; });
    if (pick == nullptr)
      return std::nullopt;
    return grant{pick->id, false};
  }
  case sched_policy::ekya:
    return next_ekya(live, now);
  }
  return std::nullopt;
}

std::optional<grant> scheduler::next_recl(const live_jobs& live, double now) {
  // Lines 10-12: one micro-window for every new request first.
  for (auto j : live)
    if (!j->initialised)
      return grant{j->id, false};
  // Lines 13-16: the largest gain, while a micro-window fits; gains
  // within the tolerance of it are ties, won by the least trained.
  auto best = first_fitting(live, now,
                            [](auto a, auto b) { return a->gain > b->gain; });
  if (best == nullptr)
    return std::nullopt;
  sched_job* pick = nullptr;
  for (auto j : live)
    if (fits(j, now) && j->gain >= best->gain - gain_tolerance_
        && (pick == nullptr || j->grants < pick->grants))
      pick = j;
  return grant{pick->id, false};
}

std::optional<grant> scheduler::next_round_robin(const live_jobs& live,
                                                 double now) {
  sched_job* pick = nullptr;
  for (auto j : live)
    if (fits(j, now) && j->order >= turn_ && pick == nullptr)
      pick = j;
  if (pick == nullptr) // wrap around
    for (auto j : live)
      if (fits(j, now)) {
        pick = j;
        break;
      }
  if (pick == nullptr)
    return std::nullopt;
  turn_ = pick->order + 1;
  return grant{pick->id, false};
}

std::optional<grant> scheduler::next_ekya(const live_jobs& live, double now) {
  for (auto j : live)
    if (j->profile.size() < profile_epochs_)
      return grant{j->id, true};
  if (dirty_)
    reallocate(now);
  auto most_owed = [](auto a, auto b) {
    return a->allocation - a->grants > b->allocation - b->grants;
  };
  auto pick = first_fitting(live, now, most_owed);
  if (pick == nullptr || pick->allocation - pick->grants < 0.5) {
    reallocate(now);
    pick = first_fitting(live, now, most_owed);
    if (pick == nullptr || pick->allocation - pick->grants < 0.5)
      return std::nullopt;
  }
  return grant{pick->id, false};
}

void scheduler::report(const grant& g, double acc_before, double acc_after,
                       double cost) {
  auto i = jobs_.find(g.job);
  if (i == jobs_.end())
    return;
  auto& j = i->second;
  if (g.profile) {
    if (j.profile.empty())
      j.profile_acc0 = acc_before;
    j.profile.push_back(acc_after);
    profiling_ += cost;
    dirty_ = true;
    return;
  }
  j.initialised = true;
  j.gain = (acc_after - acc_before) / std::max(cost, 1e-9);
  j.last_cost = cost;
  j.acc = acc_after;
  j.used += cost;
  j.grants += 1;
  training_ += cost;
  typical_cost_ = cost;
}

void scheduler::reallocate(double now) {
  dirty_ = false;
  std::vector<sched_job*> live;
  for (auto& kv : jobs_)
    if (kv.second.deadline > now)
      live.push_back(&kv.second);
  if (live.empty())
    return;
  std::sort(live.begin(), live.end(),
            [](auto a, auto b) { return a->order < b->order; });
  double unit = typical_cost_ > 0 ? typical_cost_ : 1.0;
  double horizon = 0;
  for (auto j : live)
    horizon = std::max(horizon, j->deadline - now);
  auto total = static_cast<int64_t>(std::floor(horizon / unit + 1e-9));
  auto n = static_cast<int64_t>(live.size());
  std::vector<ekya_curve> curve;
  std::vector<int64_t> a(live.size(), total / n);
  for (int64_t k = 0; k < total % n; ++k)
    a[static_cast<size_t>(k)] += 1;
  for (auto j : live) {
    std::vector<double> xs{0}, ys{j->profile_acc0};
    for (size_t e = 0; e < j->profile.size(); ++e) {
      xs.push_back(static_cast<double>(e + 1));
      ys.push_back(j->profile[e]);
    }
    curve.push_back(fit_ekya(xs, ys));
  }
  // The thief: move one micro-window at a time to where it predicts the
  // larger total accuracy.
  for (int64_t round = 0; round < total * n + 1; ++round) {
    double best = 1e-9;
    size_t thief = 0, victim = 0;
    bool found = false;
    for (size_t t = 0; t < live.size(); ++t) {
      double xt = live[t]->grants + a[t];
      double up = curve[t](xt + 1) - curve[t](xt);
      for (size_t v = 0; v < live.size(); ++v) {
        if (v == t || a[v] < 1)
          continue;
        double xv = live[v]->grants + a[v];
        double down = curve[v](xv) - curve[v](xv - 1);
        if (up - down > best) {
          best = up - down;
          thief = t;
          victim = v;
          found = true;
        }
      }
    }
    if (!found)
      break;
    a[thief] += 1;
    a[victim] -= 1;
  }
  for (size_t k = 0; k < live.size(); ++k)
    live[k]->allocation = live[k]->grants + a[k];
}

} // namespace recl
