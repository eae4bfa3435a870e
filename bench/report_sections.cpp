// The experiment sections of recl-bench's report (see report_sections.hpp).

#include "bench/report_sections.hpp"

#include "bench/plot.hpp"
#include "bench/stats.hpp"
#include "gpu/device.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace recl::bench {

namespace {

/// The series of a plot, by name.
using series_map
  = std::map<std::string, std::vector<std::pair<double, double>>>;

} // namespace

/// Reuse and compute breakdown (experiments 2 and 5, in part).
void reuse_and_compute(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& rows = in.rows;
  auto& stats = in.stats;
  rep << "\n## Reuse and compute\n\nReuse (the safety checker's hit "
         "rate for zoo models): share of windows with a non-empty zoo "
         "that were served a zoo expert. Compute per window "
         "(means): labelling (teacher), selection (top-K), safety check; "
         "device time in micro-windows for training and (Ekya) profiling; "
         "device seconds of the whole run spent updating the selectors "
         "(gating network or ODIN, on admissions and prunes); "
         "the devices' busy share (of all of them: --devices).\n\n| policy | "
         "cameras | budget | zoo "
         "at end | reuse | teacher ms | select ms | check ms | training "
         "units | profiling units | selector updates s | device busy |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (auto& [name, n, b] : s.plan) {
    size_t with_zoo = 0, reused = 0, k = 0;
    double te = 0, se = 0, ce = 0;
    for (auto& r : rows)
      if (r.policy == name && r.cameras == n && r.budget == b) {
        ++k;
        te += r.teacher_ms;
        se += r.select_ms;
        ce += r.check_ms;
        if (r.zoo_size > 0) {
          ++with_zoo;
          reused += r.source == "zoo";
        }
      }
    auto& st = stats[{name, n, b}];
    char line[512];
    std::snprintf(
      line, sizeof line,
      "| %s | %zu | %d | %zu | %s | %.0f | %.0f | %.0f | %.0f | %.0f "
      "| %.1f | %.0f%% |\n",
      name.c_str(), n, b, st.zoo,
      with_zoo ? cv::format("%zu/%zu", reused, with_zoo).c_str() : "-",
      k ? te / k : 0, k ? se / k : 0, k ? ce / k : 0, st.sched.training,
      st.sched.profiling, st.sched.selector_s,
      st.sched.elapsed_s > 0
        ? 100 * st.sched.busy_s / (st.sched.elapsed_s * st.sched.devices)
        : 0.0);
    rep << line;
  }
}

/// Experiment 3, in part: after RECL served a zoo expert for window w,
/// how long a retraining-only policy took, on the same camera and
/// stream, to deploy a model at least as accurate as RECL's on w+1.
void time_to_accuracy(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& rows = in.rows;
  for (auto n : s.cameras)
    for (auto b : s.budgets) {
      auto find = [&](const std::string& pol, const std::string& cam,
                      size_t w) -> const window_row* {
        for (auto& r : rows)
          if (r.policy == pol && r.cameras == n && r.budget == b
              && r.camera == cam && r.window == w)
            return &r;
        return nullptr;
      };
      bool header = false;
      for (auto& other : s.policies) {
        if ((other != "ams" && other != "ekya") || !s.planned(other, n, b)
            || !s.planned("recl", n, b))
          continue;
        size_t events = 0, reached = 0;
        double waited = 0;
        for (auto& r : rows) {
          if (r.policy != "recl" || r.cameras != n || r.budget != b
              || r.source != "zoo")
            continue;
          auto next = find("recl", r.camera, r.window + 1);
          if (next == nullptr || next->sparse)
            continue;
          ++events;
          for (size_t w = r.window + 1; w < s.windows; ++w) {
            auto o = find(other, r.camera, w);
            if (o != nullptr && !o->sparse && o->map >= next->map) {
              ++reached;
              waited += (w - r.window - 1) * s.T;
              break;
            }
          }
        }
        if (!header) {
          rep << "\n## Time to RECL's accuracy (" << n << " cameras, budget "
              << b
              << ")\n\nFor every window after which RECL served a "
                 "zoo expert: the stream seconds a retraining-only policy "
                 "needed to deploy a model at least as accurate on the "
                 "same camera (0 = it already was).\n\n| policy | reuse "
                 "events | reached | mean seconds when reached |\n"
                 "|---|---|---|---|\n";
          header = true;
        }
        rep << "| " << other << " | " << events << " | " << reached << " | "
            << (reached ? cv::format("%.0f", waited / reached)
                        : std::string{"-"})
            << " |\n";
      }
    }
}

/// Mean mAP against the number of cameras (first budget).
void plot_vs_cameras(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& mean_map = in.mean_map;
  if (s.cameras.size() > 1) {
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    for (auto& name : s.policies)
      for (auto n : s.cameras)
        if (s.planned(name, n, s.budgets[0]))
          series[name].emplace_back(n, mean_map[{name, n, s.budgets[0]}]);
    plot(s.out + "/map_vs_cameras.png",
         "mean mAP@0.5 vs cameras (budget " + std::to_string(s.budgets[0])
           + ")",
         "cameras", series);
    rep << "\n![mAP vs cameras](map_vs_cameras.png)\n";
  }
}

/// The served model's accuracy per window index (experiment 2, in part).
void plot_accuracy_over_time(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto n = s.cameras.back();
  series_map series;
  for (auto& name : s.policies)
    for (size_t w = 0; w < s.windows && s.planned(name, n, s.budgets[0]); ++w) {
      double sum = 0;
      size_t k = 0;
      for (auto& r : in.rows)
        if (r.policy == name && r.cameras == n && r.budget == s.budgets[0]
            && r.window == w && !r.sparse) {
          sum += r.map;
          ++k;
        }
      if (k > 0)
        series[name].emplace_back(static_cast<double>(w), sum / k);
    }
  plot(s.out + "/map_over_time.png",
       "mean mAP@0.5 per window (" + std::to_string(n) + " cameras, budget "
         + std::to_string(s.budgets[0]) + ")",
       "window", series);
  rep << "\n![mAP over time](map_over_time.png)\n";
}

/// The zoo's size and the share of windows served from it per window index
/// (experiment 5, in part).
void plot_zoo_over_time(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto n = s.cameras.back();
  series_map zoo, reuse;
  for (auto& name : s.policies) {
    // Only policies that serve from the zoo (others may fill one unused).
    bool serves = false;
    for (auto& r : in.rows)
      serves = serves || (r.policy == name && r.source == "zoo");
    for (size_t w = 0;
         serves && w < s.windows && s.planned(name, n, s.budgets[0]); ++w) {
      double size = 0, served = 0;
      size_t k = 0;
      for (auto& r : in.rows)
        if (r.policy == name && r.cameras == n && r.budget == s.budgets[0]
            && r.window == w) {
          size += r.zoo_size;
          served += r.source == "zoo";
          ++k;
        }
      if (k > 0) {
        zoo[name].emplace_back(static_cast<double>(w), size / k);
        reuse[name].emplace_back(static_cast<double>(w), served / k);
      }
    }
  }
  if (!zoo.empty()) {
    plot(s.out + "/zoo_over_time.png",
         "zoo size per window (" + std::to_string(n) + " cameras)", "window",
         zoo, 0);
    plot(s.out + "/reuse_over_time.png",
         "share of windows served from "
         "the zoo ("
           + std::to_string(n) + " cameras)",
         "window", reuse);
    rep << "\n![zoo size over time](zoo_over_time.png)\n"
           "![reuse over time](reuse_over_time.png)\n";
  }
}

/// RECL's compute per window index (experiment 5).
void plot_compute_over_time(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto n = s.cameras.back();
  if (s.planned("recl", n, s.budgets[0])) {
    series_map ms;
    for (size_t w = 0; w < s.windows; ++w) {
      double te = 0, se = 0, ce = 0;
      size_t k = 0;
      for (auto& r : in.rows)
        if (r.policy == "recl" && r.cameras == n && r.budget == s.budgets[0]
            && r.window == w) {
          te += r.teacher_ms;
          se += r.select_ms;
          ce += r.check_ms;
          ++k;
        }
      if (k == 0)
        continue;
      ms["labelling"].emplace_back(static_cast<double>(w), te / k);
      ms["selection"].emplace_back(static_cast<double>(w), se / k);
      ms["safety check"].emplace_back(static_cast<double>(w), ce / k);
    }
    if (!ms.empty()) {
      plot(s.out + "/compute_over_time.png",
           "RECL's compute per window, ms (" + std::to_string(n) + " cameras)",
           "window", ms, 0);
      rep << "![RECL's compute over time](compute_over_time.png)\n";
    }
  }
}

/// Mean mAP against the budget.
void plot_vs_budget(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& mean_map = in.mean_map;
  if (s.budgets.size() > 1) {
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    auto n = s.sweep_cameras;
    for (auto& name : s.policies)
      for (auto b : s.budgets)
        if (s.planned(name, n, b))
          series[name].emplace_back(b, mean_map[{name, n, b}]);
    plot(s.out + "/map_vs_budget.png",
         "mean mAP@0.5 vs budget (" + std::to_string(n) + " cameras)",
         "micro-windows per window", series);
    rep << "\n![mAP vs budget](map_vs_budget.png)\n";
  }
}

/// Experiment 2: selectors on the same zoo, from runs of "selectors"
/// (gating serves; every zoo expert is also evaluated on each window).
void selectors_section(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& rows = in.rows;
  for (auto& [name, n, b] : s.plan) {
    if (name.rfind("selectors", 0) != 0)
      continue;
    double g = 0, od = 0, orc = 0, served = 0;
    size_t k = 0, g_best = 0, o_best = 0;
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    std::map<size_t, std::array<double, 5>> per_w; // sums and count
    for (auto& r : rows) {
      // Windows where all three had a pick (the gating network and ODIN
      // cover an admitted expert a moment after the zoo lists it).
      if (r.policy != name || r.cameras != n || r.budget != b
          || r.sel_oracle < 0 || r.sel_gating < 0 || r.sel_odin < 0)
        continue;
      ++k;
      auto gv = std::max(0.0, r.sel_gating), ov = std::max(0.0, r.sel_odin);
      g += gv;
      od += ov;
      orc += r.sel_oracle;
      served += std::max(0.0, r.served_acc);
      g_best += gv >= r.sel_oracle;
      o_best += ov >= r.sel_oracle;
      auto& a = per_w[r.window];
      a[0] += gv;
      a[1] += ov;
      a[2] += r.sel_oracle;
      a[3] += std::max(0.0, r.served_acc);
      a[4] += 1;
    }
    rep << "\n## Selectors on the same zoo (" << name << ", " << n
        << " cameras, budget " << b
        << ")\n\nWindows where gating, "
           "ODIN and the oracle each had a pick from the zoo: "
        << k
        << ". Accuracy on each window's teacher-labelled frames of "
           "the gating network's first choice, ODIN's first choice and the "
           "best zoo expert (oracle), and of what RECL served after its "
           "safety check (gating's top-K plus the edge's, the last "
           "retrained and the base model).\n\n";
    if (k > 0) {
      rep << "| selector | mean accuracy | picked the best zoo expert |\n"
             "|---|---|---|\n"
          << cv::format("| gating top-1 | %.3f | %zu/%zu |\n", g / k, g_best, k)
          << cv::format("| ODIN top-1 | %.3f | %zu/%zu |\n", od / k, o_best, k)
          << cv::format("| oracle | %.3f | %zu/%zu |\n", orc / k, k, k)
          << cv::format("| RECL served (safety-checked) | %.3f | - |\n",
                        served / k);
      for (auto& [w, a] : per_w) {
        series["gating top-1"].emplace_back(w, a[0] / a[4]);
        series["ODIN top-1"].emplace_back(w, a[1] / a[4]);
        series["oracle"].emplace_back(w, a[2] / a[4]);
        series["RECL served"].emplace_back(w, a[3] / a[4]);
      }
      auto file = cv::format("selectors_%zu_%d.png", n, b);
      plot(s.out + "/" + file,
           "selected model's accuracy per window (" + std::to_string(n)
             + " cameras)",
           "window", series);
      rep << "\n![selectors](" << file << ")\n";
    }
  }
}

/// Experiment 3, profiled: retraining the edge's previous model on the
/// window's frames until it matched the zoo expert RECL served at once.
void curves_section(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& stats = in.stats;
  {
    bool header = false;
    for (auto& [name, n, b] : s.plan) {
      auto it = stats.find({name, n, b});
      if (name != "recl" || it == stats.end() || it->second.curves.empty())
        continue;
      if (!header) {
        rep << "\n## Reuse vs retraining: time to the same accuracy "
               "(experiment 3)\n\nFor every window RECL served a zoo "
               "expert: its accuracy on the window's frames (teacher labels), "
               "and the epochs and training seconds (this machine, "
            << gpu::device_name()
            << ", after the run) that retraining the edge's previous model on "
               "those frames needed to reach it, at most "
            << s.curve_epochs
            << " epochs; RECL's answer took its selection + safety check. "
               "Retraining is scored on the frames it trains on, which "
               "favours it, and its time excludes waiting for the "
               "accelerator.\n\n"
               "| cameras | budget | reuse events | reached | median epochs "
               "| median training s | not reached | RECL reply (select + "
               "check) ms |\n|---|---|---|---|---|---|---|---|\n";
        header = true;
      }
      std::vector<double> ep, sec, reply;
      size_t missed = 0;
      for (auto& c : it->second.curves) {
        reply.push_back(c.reply_ms);
        if (c.epochs < 0) {
          ++missed;
          continue;
        }
        ep.push_back(c.epochs);
        sec.push_back(c.seconds);
      }
      rep << cv::format(
        "| %zu | %d | %zu | %zu | %s | %s | %zu | %.0f |\n", n, b,
        it->second.curves.size(), ep.size(),
        ep.empty() ? "-" : cv::format("%.0f", percentile(ep, 50)).c_str(),
        sec.empty() ? "-" : cv::format("%.1f", percentile(sec, 50)).c_str(),
        missed, percentile(reply, 50));
    }
  }
}

/// Experiment 6: ablations next to RECL with the same cameras and budget.
void ablations_section(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& rows = in.rows;
  auto& mean_map = in.mean_map;
  auto& stats = in.stats;
  {
    bool header = false;
    for (auto& [name, n, b] : s.plan) {
      bool ablation = name == "recl-eta0" || name == "recl-alpha0.1"
                      || name == "recl-top1" || name.rfind("recl[", 0) == 0;
      if (!ablation)
        continue;
      if (!header) {
        rep << "\n## Ablations (experiment 6)\n\nRECL with one setting "
               "changed, against RECL as configured (pruning eta 4, "
               "admission alpha 0.02, top-K 10) with the same cameras and "
               "budget.\n\n| variant | cameras | budget | mean mAP@0.5 | "
               "RECL's | zoo at end | reuse |\n|---|---|---|---|---|---|---|\n";
        header = true;
      }
      size_t with_zoo = 0, reused = 0;
      for (auto& r : rows)
        if (r.policy == name && r.cameras == n && r.budget == b
            && r.zoo_size > 0) {
          ++with_zoo;
          reused += r.source == "zoo";
        }
      rep << cv::format("| %s | %zu | %d | %.3f | %s | %zu | %zu/%zu |\n",
                        name.c_str(), n, b, mean_map[{name, n, b}],
                        s.planned("recl", n, b)
                          ? cv::format("%.3f", mean_map[{"recl", n, b}]).c_str()
                          : "-",
                        stats[{name, n, b}].zoo, reused, with_zoo);
    }
  }
}

/// Experiment 1's second half: the smallest budget in this run at which
/// each other policy's mean mAP reached RECL's at each budget.
void budget_to_match(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& mean_map = in.mean_map;
  auto swept = [&](const std::string& name) {
    size_t k = 0;
    for (auto b : s.budgets)
      k += s.planned(name, s.sweep_cameras, b);
    return k > 1;
  };
  if (swept("recl")) {
    auto n = s.sweep_cameras;
    auto budgets = s.budgets;
    std::sort(budgets.begin(), budgets.end());
    rep << "\n## Budget needed to match RECL (" << n
        << " cameras)\n\n"
           "The smallest budget of this run at which each policy's mean "
           "mAP@0.5 reached RECL's at the budget of the column (\"> B\": "
           "not within the budgets run).\n\n| policy |";
    for (auto b : budgets)
      rep << " RECL at " << b << " ("
          << cv::format("%.3f", mean_map[{"recl", n, b}]) << ") |";
    rep << "\n|---|";
    for (size_t i = 0; i < budgets.size(); ++i)
      rep << "---|";
    rep << "\n";
    for (auto& name : s.policies) {
      if (name == "recl" || !swept(name))
        continue;
      rep << "| " << name << " |";
      for (auto b : budgets) {
        auto target = mean_map[{"recl", n, b}];
        std::string need = "> " + std::to_string(budgets.back());
        if (!s.planned("recl", n, b))
          need = "-";
        for (auto c : budgets)
          if (s.planned("recl", n, b) && s.planned(name, n, c)
              && mean_map[{name, n, c}] >= target) {
            need = std::to_string(c);
            break;
          }
        rep << " " << need << " |";
      }
      rep << "\n";
    }
  }
}

} // namespace recl::bench
