// The GPU owner's answers about models, served between micro-windows: the
// safety check's scores, the selectors' top-K, a model's weights, and what
// it loads at start-up. Training jobs are in gpu_owner.cpp; zoo changes in
// gpu_owner_zoo.cpp.

#include "actors/gpu_owner_state.hpp"
#include "common/fault.hpp"
#include "schema/model_update.hpp"
#include "store/keys.hpp"

#include <algorithm>

namespace recl::detail {

namespace {

/// ODIN's K nearest experts (mean embedding of the window vs each
/// expert's centroid, L2); none before the first admission.
std::vector<std::string> odin_top_k(gpu_owner_state& st,
                                    const labelled_window& lw, uint32_t k) {
  if (!st.odin || st.centroids.empty())
    return {};
  auto q = st.odin->embed(*st.images_of(lw));
  std::vector<std::pair<double, std::string>> by;
  for (auto& [id, c] : st.centroids) {
    double d = 0;
    for (size_t i = 0; i < c.size() && i < q.size(); ++i)
      d += (c[i] - q[i]) * (c[i] - q[i]);
    by.emplace_back(d, id);
  }
  std::sort(by.begin(), by.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < by.size() && i < k; ++i)
    out.push_back(by[i].second);
  return out;
}

/// The gating network's top-K; none while the zoo is empty.
std::vector<std::string> gating_top_k(gpu_owner_state& st,
                                      const labelled_window& lw, uint32_t k) {
  if (!st.gate || st.gate_ids.empty())
    return {};
  std::vector<std::string> out;
  for (auto i : st.gate->top_k(*st.images_of(lw), k))
    out.push_back(st.gate_ids[i]);
  return out;
}

/// Every other element of `xs` from `r` (0: even, 1: odd); all of them when
/// there are fewer than two.
std::vector<std::vector<box>> half(const std::vector<std::vector<box>>& xs,
                                   size_t r) {
  if (xs.size() < 2)
    return xs;
  std::vector<std::vector<box>> h;
  for (size_t i = r; i < xs.size(); i += 2)
    h.push_back(xs[i]);
  return h;
}

} // namespace

void load_models(gpu_owner_state& st) {
  if (st.cfg.base_expert.empty()) {
    log::info("gpu-owner", "no base expert: selection and retraining are "
                           "off, every window keeps the edge's model");
    return;
  }
  try {
    st.base = expert::load(st.cfg.base_expert, st.cfg.expert);
    if (st.cfg.generalist) {
      if (auto g = st.db->get(family::experts, keys::generalist))
        st.generalist = expert::from_bytes(*g, st.cfg.expert);
      else
        st.generalist = st.base->clone();
    }
    st.load_gating();
    log::info("gpu-owner", "base expert ", st.cfg.base_expert, ", scheduler ",
              st.cfg.scheduler, ", clock ", to_string(st.cfg.clock),
              ", budget ", st.cfg.budget,
              st.cfg.clock == clock_kind::replay ? " micro-windows" : " s",
              ", gating over ", st.gate_ids.size(), " experts");
  } catch (const std::exception& e) {
    log::error("gpu-owner", e.what(), "; running without expert models");
    st.base.reset();
  }
}

namespace {

/// The selector's proposals for `lw`, by policy; `zoo` is every zoo expert
/// (what the oracle proposes).
std::vector<std::string> proposals(gpu_owner_state& st,
                                   const labelled_window& lw, uint32_t k,
                                   const std::vector<std::string>& zoo) {
  switch (st.cfg.selector) {
  case selector_kind::gating:
  case selector_kind::compare:
    return gating_top_k(st, lw, k);
  case selector_kind::odin:
    return odin_top_k(st, lw, k);
  case selector_kind::oracle:
    return zoo;
  case selector_kind::none:
    break;
  }
  return {};
}

/// Appends `x` to `ids` unless it is empty or there already.
void add_unique(std::vector<std::string>& ids, const std::string& x) {
  if (!x.empty() && std::find(ids.begin(), ids.end(), x) == ids.end())
    ids.push_back(x);
}

/// Every model in `r.ids` scored on all frames, the even and the odd ones.
void score(gpu_owner_state& st, const labelled_window& lw, check_result& r) {
  auto& ids = r.ids;
  auto n = ids.size();
  r.all.assign(n, -1.f);
  r.even = r.odd = r.all;
  auto imgs = st.images_of(lw);
  auto truth = boxes_of(lw.labels);
  auto truth_a = half(truth, 0), truth_b = half(truth, 1);
  for (size_t k = 0; k < n; ++k) {
    auto x = st.find(ids[k]);
    if (!x)
      continue;
    auto dets = x->detect_for_scoring(*imgs);
    r.all[k] = static_cast<float>(detection_accuracy(dets, truth));
    r.even[k] = static_cast<float>(detection_accuracy(half(dets, 0), truth_a));
    r.odd[k] = static_cast<float>(detection_accuracy(half(dets, 1), truth_b));
  }
}

} // namespace

caf::expected<check_result>
select_and_check(gpu_owner_state& st, const labelled_window& lw, uint32_t k,
                 const std::vector<std::string>& own,
                 const std::vector<std::string>& zoo) {
  if (!st.models())
    return caf::make_error(ec::model, "no expert models (recld started "
                                      "without a base expert)");
  // Fault injection for the restart test: fail once per process.
  if (fault_at("gpu-owner-evaluate"))
    throw std::runtime_error("RECL_CRASH_AT=gpu-owner-evaluate");
  auto t0 = clock_type::now();
  check_result r;
  try {
    r.ids = proposals(st, lw, k, zoo);
    auto own_from = r.ids.size();
    for (auto& x : own)
      add_unique(r.ids, x);
    auto served = r.ids.size();
    // --selector compare: gating's and ODIN's first choices and every zoo
    // expert are scored too, but never served.
    std::string gating_pick, odin_pick;
    if (st.cfg.selector == selector_kind::compare) {
      // Gating serves here: its first choice leads the proposals.
      auto o = odin_top_k(st, lw, 1);
      gating_pick = own_from > 0 ? r.ids.front() : "";
      odin_pick = o.empty() ? "" : o[0];
      add_unique(r.ids, gating_pick);
      add_unique(r.ids, odin_pick);
      for (auto& x : zoo)
        add_unique(r.ids, x);
    }
    r.select_ms = seconds_since(t0) * 1000;
    score(st, lw, r);
    if (st.cfg.selector == selector_kind::compare) {
      r.compare.gating = gating_pick.empty() ? -1.f : r.score_of(gating_pick);
      r.compare.odin = odin_pick.empty() ? -1.f : r.score_of(odin_pick);
      for (auto& x : zoo)
        r.compare.oracle = std::max(r.compare.oracle, r.score_of(x));
    }
    // The comparison's extra ids are not candidates.
    for (auto* v : {&r.all, &r.even, &r.odd})
      v->resize(served);
    r.ids.resize(served);
  } catch (const std::exception& e) {
    return caf::make_error(ec::model,
                           std::string{to_string(st.cfg.selector)}
                             + " selection and safety check: " + e.what());
  }
  r.check_ms = seconds_since(t0) * 1000 - r.select_ms;
  st.busy_s += seconds_since(t0);
  return r;
}

caf::expected<std::string> weights_of(gpu_owner_state& st,
                                      const std::string& id) {
  try {
    if (auto x = st.find(id))
      return x->to_bytes();
  } catch (const std::exception& e) {
    return caf::make_error(ec::model, e.what());
  }
  return caf::make_error(ec::unknown_expert, "no model '" + id + "'");
}

caf::expected<std::string> update_of(gpu_owner_state& st, const std::string& id,
                                     const std::string& base_id,
                                     const std::string& base_hash, bool half) {
  try {
    // A copy of the base: finding the target may evict it from the cache.
    std::unique_ptr<expert> base;
    if (!base_id.empty() && !base_hash.empty())
      if (auto x = st.find(base_id))
        base = x->clone();
    auto target = st.find(id);
    if (!target)
      return caf::make_error(ec::unknown_expert, "no model '" + id + "'");
    return encode(make_update(base.get(), base_hash, *target, half));
  } catch (const std::exception& e) {
    return caf::make_error(ec::model, e.what());
  }
}

scheduler_report report_of(const gpu_owner_state& st) {
  scheduler_report r;
  r.policy = to_string(st.sched->policy());
  r.clock = to_string(st.cfg.clock);
  r.now = st.now();
  for (auto& [id, j] : st.sched->jobs()) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s deadline=%.1f grants=%u gain=%.4f acc=%.3f", id.c_str(),
                  j.deadline, j.grants, j.gain, j.acc);
    r.jobs.push_back(line);
  }
  r.recent.assign(st.recent.begin(), st.recent.end());
  r.busy_s = st.busy_s;
  r.elapsed_s = seconds_since(st.started);
  r.profiling = st.sched->profiling_spent();
  r.training = st.sched->training_spent();
  r.grants = st.grants;
  r.selector_s = st.selector_s;
  return r;
}

double accuracy_on(expert& model, const labelled_frames& xs) {
  return detection_accuracy(model.detect_for_scoring(xs.frames), xs.labels);
}

void maybe_stream(gpu_owner_state& st, job& j) {
  if (!st.cfg.stream || j.camera.empty() || j.holdout.frames.empty())
    return;
  // With gains measured on the held-out slice, the micro-window measured it.
  auto acc = st.cfg.gains_on == gain_frames::holdout
               ? j.acc
               : accuracy_on(j.train->model(), j.holdout);
  if (acc <= j.best_holdout)
    return;
  j.best_holdout = acc;
  // The replay clock counts this micro-window only once it returns.
  auto end = st.now() + (st.cfg.clock == clock_kind::replay ? 1.0 : 0.0);
  streamed_step s;
  s.at = static_cast<float>(
    std::clamp((end - j.added_at) / std::max(1e-9, st.cfg.budget), 0.0, 1.0));
  s.accuracy = static_cast<float>(acc);
  s.model_id = retrained_id(j.camera, j.window);
  s.weights = j.train->model().to_bytes();
  // A few megabytes each: past max_streamed_steps the newest replaces the
  // last one kept, so the best is always there.
  if (j.steps.size() >= max_streamed_steps)
    j.steps.pop_back();
  j.steps.push_back(std::move(s));
}

} // namespace recl::detail
