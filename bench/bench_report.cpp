// recl-bench's report: CSV files, report.md and plots, from the rows of
// one run. Every number comes from those rows.

#include "bench/bench_report.hpp"

#include "bench/plot.hpp"
#include "bench/stats.hpp"
#include "common/util.hpp"
#include "gpu/device.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

namespace recl::bench {

namespace {

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(p / 100.0 * (xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

/// One pairing key: the same frames under two policies.
using pair_key = std::tuple<uint64_t, std::string, size_t>;

/// Scored (non-sparse) rows of one run by (seed, camera, window).
std::map<pair_key, const window_row*>
scored(const std::vector<window_row>& rows, const std::string& policy,
       size_t n, int b) {
  std::map<pair_key, const window_row*> out;
  for (auto& r : rows)
    if (r.policy == policy && r.cameras == n && r.budget == b && !r.sparse)
      out[{r.seed, r.camera, r.window}] = &r;
  return out;
}

/// RECL minus `other` on the frames both scored.
paired_ci paired(const std::map<pair_key, const window_row*>& mine,
                 const std::map<pair_key, const window_row*>& theirs) {
  std::vector<double> d;
  for (auto& [k, r] : mine)
    if (auto i = theirs.find(k); i != theirs.end())
      d.push_back(r->map - i->second->map);
  return bootstrap_mean(d);
}

std::string verdict(const paired_ci& c) {
  if (c.n < 2)
    return "too few pairs";
  if (!c.measurable())
    return "no measurable difference";
  return c.mean > 0 ? "RECL better" : "RECL worse";
}

/// The paired comparison against RECL and RECL's decomposition, as
/// markdown; also printed, so a run's verdict is on its console.
std::string paired_section(const bench_settings& s,
                           const std::vector<window_row>& rows) {
  std::string out;
  for (auto& [name, n, b] : s.plan) {
    if (name != "recl")
      continue;
    auto mine = scored(rows, "recl", n, b);
    out += cv::format(
      "\n## Paired against RECL (%zu cameras, budget %d)\n\nEvery "
      "difference is RECL's mAP@0.5 minus the other policy's on the same "
      "frames (same seed, camera and window), averaged over the windows "
      "both scored, with a 95%% bootstrap interval; an interval that "
      "includes 0 is no measurable difference.\n\n| policy | pairs | "
      "RECL | policy | RECL - policy | 95%% interval | verdict |\n"
      "|---|---|---|---|---|---|---|\n", n, b);
    for (auto& [other, n2, b2] : s.plan) {
      if (other == "recl" || n2 != n || b2 != b)
        continue;
      auto theirs = scored(rows, other, n, b);
      std::vector<double> a, t;
      for (auto& [k, r] : mine)
        if (auto i = theirs.find(k); i != theirs.end()) {
          a.push_back(r->map);
          t.push_back(i->second->map);
        }
      auto c = paired(mine, theirs);
      auto avg = [](const std::vector<double>& xs) {
        double x = 0;
        for (auto v : xs)
          x += v;
        return xs.empty() ? 0.0 : x / static_cast<double>(xs.size());
      };
      out += cv::format("| %s | %zu | %.3f | %.3f | %+.3f | %+.3f..%+.3f | "
                        "%s |\n", other.c_str(), c.n, avg(a), avg(t),
                        c.mean, c.lo, c.hi, verdict(c).c_str());
    }
    // Decomposition: by where the model RECL deployed on a window came
    // from (what it served after the window before), RECL against AMS on
    // the same frames, and the winner's-curse gap: the served model's score
    // on the frames it was picked on minus its score on the next window.
    auto ams = s.planned("ams", n, b) ? scored(rows, "ams", n, b)
                                      : decltype(mine){};
    std::map<std::string, std::vector<double>> vs_ams, gap;
    std::map<std::string, size_t> count;
    // Every RECL row, sparse ones too: a window's predecessor may be one.
    std::map<pair_key, const window_row*> every;
    for (auto& x : rows)
      if (x.policy == "recl" && x.cameras == n && x.budget == b)
        every[{x.seed, x.camera, x.window}] = &x;
    for (auto& [k, r] : mine) {
      auto& [seed, cam, w] = k;
      auto p = w > 0 ? every.find({seed, cam, w - 1}) : every.end();
      if (p == every.end())
        continue;
      auto prev = p->second;
      auto src = prev->source;
      count[src] += 1;
      if (auto i = ams.find(k); i != ams.end())
        vs_ams[src].push_back(r->map - i->second->map);
      if (prev->served_acc >= 0)
        gap[src].push_back(prev->served_acc - r->map);
    }
    if (!count.empty()) {
      out += "\nRECL's windows by the source of the model it deployed "
             "(served after the window before): RECL minus AMS on the same "
             "frames, and the gap between the model's score on the frames "
             "that chose it and its score on this window (positive: it "
             "looked better when chosen than it then was).\n\n| deployed "
             "model | windows | RECL - AMS | 95% interval | selection gap "
             "|\n|---|---|---|---|---|\n";
      for (auto& [src, k] : count) {
        auto c = bootstrap_mean(vs_ams[src]);
        auto g = bootstrap_mean(gap[src]);
        out += cv::format("| %s | %zu | %s | %s | %s |\n", src.c_str(), k,
                          c.n ? cv::format("%+.3f", c.mean).c_str() : "-",
                          c.n > 1 ? cv::format("%+.3f..%+.3f", c.lo, c.hi).c_str()
                                  : "-",
                          g.n ? cv::format("%+.3f", g.mean).c_str() : "-");
      }
    }
  }
  return out;
}

} // namespace

const char* const window_csv_header
  = "policy,cameras,budget,camera,window,clip,place,deployed,served,"
    "source,map,car_ap,sparse,reply_ms,zoo_size,candidates,teacher_ms,"
    "select_ms,check_ms,served_acc,sel_gating,sel_odin,sel_oracle,f1,seed,"
    "history";

std::string to_csv(const window_row& r) {
  std::ostringstream f;
  f.precision(10);
  f << r.policy << "," << r.cameras << "," << r.budget << "," << r.camera
    << "," << r.window << "," << r.clip << "," << r.place << ","
    << r.deployed << "," << r.served << "," << r.source << "," << r.map
    << "," << r.car_ap << "," << (r.sparse ? 1 : 0) << "," << r.reply_ms
    << "," << r.zoo_size << "," << r.candidates << "," << r.teacher_ms
    << "," << r.select_ms << "," << r.check_ms << "," << r.served_acc << ","
    << r.sel_gating << "," << r.sel_odin << "," << r.sel_oracle << ","
    << r.f1 << "," << r.seed << "," << (r.history ? 1 : 0);
  return f.str();
}

window_row from_csv(const std::string& line) {
  auto c = split(line, ',');
  if (c.size() != 26)
    throw std::runtime_error("a windows row has " + std::to_string(c.size())
                             + " cells, not 26");
  window_row r;
  try {
    r.policy = c[0];
    r.cameras = std::stoul(c[1]);
    r.budget = std::stoi(c[2]);
    r.camera = c[3];
    r.window = std::stoul(c[4]);
    r.clip = c[5];
    r.place = c[6];
    r.deployed = c[7];
    r.served = c[8];
    r.source = c[9];
    r.map = std::stod(c[10]);
    r.car_ap = std::stod(c[11]);
    r.sparse = c[12] == "1";
    r.reply_ms = std::stod(c[13]);
    r.zoo_size = static_cast<uint32_t>(std::stoul(c[14]));
    r.candidates = static_cast<uint32_t>(std::stoul(c[15]));
    r.teacher_ms = std::stod(c[16]);
    r.select_ms = std::stod(c[17]);
    r.check_ms = std::stod(c[18]);
    r.served_acc = std::stod(c[19]);
    r.sel_gating = std::stod(c[20]);
    r.sel_odin = std::stod(c[21]);
    r.sel_oracle = std::stod(c[22]);
    r.f1 = std::stod(c[23]);
    r.seed = std::stoull(c[24]);
    r.history = c[25] == "1";
  } catch (const std::logic_error&) {
    throw std::runtime_error("a windows row has a malformed number");
  }
  return r;
}

void save_run(const std::string& path, const std::string& fingerprint,
              const std::vector<window_row>& rows, const run_stats& st,
              double wall_s) {
  std::ostringstream f;
  f.precision(10);
  f << "# " << fingerprint << "\n";
  f << "# stats " << st.zoo << " " << st.sched.training << " "
    << st.sched.profiling << " " << st.sched.selector_s << " "
    << st.sched.busy_s << " " << st.sched.elapsed_s << " " << wall_s << "\n";
  for (auto& r : rows)
    f << to_csv(r) << "\n";
  write_file_atomic(path, f.str());
}

bool load_run(const std::string& path, const std::string& fingerprint,
              std::vector<window_row>& rows, run_stats& st, double& wall_s) {
  if (!std::ifstream{path})
    return false;
  auto lines = split(read_file(path), '\n');
  if (lines.size() < 2 || lines[0] != "# " + fingerprint
      || lines[1].rfind("# stats ", 0) != 0)
    return false;
  std::istringstream in{lines[1].substr(8)};
  in >> st.zoo >> st.sched.training >> st.sched.profiling
    >> st.sched.selector_s >> st.sched.busy_s >> st.sched.elapsed_s >> wall_s;
  if (!in)
    return false;
  std::vector<window_row> out;
  for (size_t i = 2; i < lines.size(); ++i)
    if (!lines[i].empty())
      out.push_back(from_csv(lines[i]));
  rows.insert(rows.end(), out.begin(), out.end());
  return true;
}

void write_report(const bench_settings& s,
                  const std::vector<window_row>& all_rows,
                  std::map<run_key, run_stats>& stats,
                  std::map<run_key, double>& wall) {
  // windows.csv
  {
    std::ofstream f{s.out + "/windows.csv"};
    f << window_csv_header << "\n";
    for (auto& r : all_rows)
      f << to_csv(r) << "\n";
  }
  // Everything below is about the scored windows only.
  std::vector<window_row> rows;
  for (auto& r : all_rows)
    if (!r.history)
      rows.push_back(r);
  // summary.csv and report.md
  std::ofstream sum{s.out + "/summary.csv"};
  sum << "policy,cameras,budget,windows,scored,sparse,mean_map,p1_map,"
         "mean_car_ap,car_ap_windows,mean_reply_ms,wall_s,mean_f1\n";
  std::ofstream rep{s.out + "/report.md"};
  rep << "# recl-bench report\n\n";
  rep << "Mode: "
      << (s.quick      ? "quick"
          : s.standard ? "standard"
          : s.lifetime ? "lifetime"
                       : "custom")
      << ". Plan: " << s.plan_name
      << (s.plan_name == "roaming"
            ? " (each camera dwells " + std::to_string(s.dwell)
                + " windows at a place, then moves to the next; camera c "
                  "arrives where camera c+1 was one dwell before)"
            : std::string{" (each camera stays at its place)"})
      << "; " << s.history
      << " history windows per camera played but not scored; " << s.seeds
      << " seed(s) per run"
      << ". Workload: " << s.windows << " windows per camera of up to "
      << s.T << " s of catalog video, " << s.sample_fps
      << " frames/s sent, " << s.eval_frames
      << " frames per window scored with the model deployed on the edge "
         "at that moment, against YOLOX-Nano teacher labels. Budgets: "
      << s.budget_text
      << " micro-windows (epochs) of training per job, replay clock. "
         "Base expert: "
      << (s.base_given ? s.base : std::string{"YOLOX-Nano COCO weights"})
      << " at 256x160. Machine: "
      << std::thread::hardware_concurrency() << " cores, "
      << gpu::device_name()
      << ". mAP@0.5 and car AP rank every detection down to score 0.01 "
         "(COCO-style); mean F1 at 0.3 scores what the edge reports (boxes "
         "with score >= 0.3) per frame against the teacher's.\n\n";
  rep << "| policy | cameras | budget | windows | scored | sparse (left "
         "out) | mean mAP@0.5 | 1st pct mAP | mean car AP | mean F1 at 0.3 | "
         "mean reply ms | wall s |\n|---|---|---|---|---|---|---|---|---|---|"
         "---|---|\n";
  // (policy, cameras, budget) -> mean mAP, for the plots
  std::map<std::tuple<std::string, size_t, int>, double> mean_map;
  for (auto& [name, n, b] : s.plan) {
      std::vector<double> maps, cars, reply, f1s;
      size_t total = 0, sparse = 0;
      for (auto& r : rows)
        if (r.policy == name && r.cameras == n && r.budget == b) {
          ++total;
          reply.push_back(r.reply_ms);
          if (r.sparse) {
            ++sparse;
            continue;
          }
          maps.push_back(r.map);
          f1s.push_back(r.f1);
          if (r.car_ap >= 0)
            cars.push_back(r.car_ap);
        }
      auto mean = [](const std::vector<double>& xs) {
        double t = 0;
        for (auto x : xs)
          t += x;
        return xs.empty() ? 0.0 : t / xs.size();
      };
      char line[512];
      std::snprintf(line, sizeof line,
                    "| %s | %zu | %d | %zu | %zu | %zu | %.3f | %.3f | %.3f "
                    "| %.3f | %.0f | %.0f |\n",
                    name.c_str(), n, b, total, maps.size(), sparse,
                    mean(maps), percentile(maps, 1), mean(cars), mean(f1s),
                    mean(reply), wall[{name, n, b}]);
      rep << line;
      mean_map[{name, n, b}] = mean(maps);
      sum << name << "," << n << "," << b << "," << total << ","
          << maps.size() << "," << sparse << "," << mean(maps) << ","
          << percentile(maps, 1) << "," << mean(cars) << "," << cars.size()
          << "," << mean(reply) << "," << wall[{name, n, b}] << ","
          << mean(f1s) << "\n";
    }
  // Where RECL does not win, plainly: every run where another policy's mean
  // mAP@0.5 reached RECL's with the same cameras and budget.
  {
    std::vector<std::string> lines;
    for (auto& [name, n, b] : s.plan) {
      if (name == "recl" || !s.planned("recl", n, b))
        continue;
      auto mine = mean_map[{"recl", n, b}], theirs = mean_map[{name, n, b}];
      if (theirs >= mine)
        lines.push_back(cv::format("- %s with %zu cameras, budget %d: "
                                   "%.3f vs RECL's %.3f",
                                   name.c_str(), n, b, theirs, mine));
    }
    bool any_recl = false;
    for (auto& k : s.plan)
      any_recl = any_recl || std::get<0>(k) == "recl";
    if (any_recl) {
      rep << "\n## Where RECL does not win\n\n";
      if (lines.empty())
        rep << "Every other policy's mean mAP@0.5 stayed below RECL's in "
               "every run with the same cameras and budget.\n";
      else {
        rep << "Runs where another policy's mean mAP@0.5 matched or beat "
               "RECL's with the same cameras and budget:\n\n";
        for (auto& l : lines)
          rep << l << "\n";
      }
    }
  }
  {
    auto text = paired_section(s, rows);
    rep << text;
    std::printf("%s", text.c_str());
    std::fflush(stdout);
  }
  // Reuse and compute breakdown (experiments 2 and 5, in part).
  rep << "\n## Reuse and compute\n\nReuse (the safety checker's hit "
         "rate for zoo models): share of windows with a non-empty zoo "
         "that were served a zoo expert. Compute per window "
         "(means): labelling (teacher), selection (top-K), safety check; "
         "device time in micro-windows for training and (Ekya) profiling; "
         "device seconds of the whole run spent updating the selectors "
         "(gating network or ODIN, on admissions and prunes); "
         "the device's busy share.\n\n| policy | cameras | budget | zoo "
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
          k ? te / k : 0, k ? se / k : 0, k ? ce / k : 0,
          st.sched.training, st.sched.profiling, st.sched.selector_s,
          st.sched.elapsed_s > 0 ? 100 * st.sched.busy_s / st.sched.elapsed_s
                                 : 0.0);
        rep << line;
      }
  // Experiment 3, in part: after RECL served a zoo expert for window w,
  // how long a retraining-only policy took, on the same camera and
  // stream, to deploy a model at least as accurate as RECL's on w+1.
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
              << b << ")\n\nFor every window after which RECL served a "
                 "zoo expert: the stream seconds a retraining-only policy "
                 "needed to deploy a model at least as accurate on the "
                 "same camera (0 = it already was).\n\n| policy | reuse "
                 "events | reached | mean seconds when reached |\n"
                 "|---|---|---|---|\n";
          header = true;
        }
        rep << "| " << other << " | " << events << " | " << reached
            << " | "
            << (reached ? cv::format("%.0f", waited / reached)
                        : std::string{"-"})
            << " |\n";
      }
    }
  // Plots: mean mAP vs cameras (first budget), vs budget (most cameras).
  if (s.cameras.size() > 1) {
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    for (auto& name : s.policies)
      for (auto n : s.cameras)
        if (s.planned(name, n, s.budgets[0]))
          series[name].emplace_back(n, mean_map[{name, n, s.budgets[0]}]);
    plot(s.out + "/map_vs_cameras.png", "mean mAP@0.5 vs cameras (budget "
         + std::to_string(s.budgets[0]) + ")", "cameras", series);
    rep << "\n![mAP vs cameras](map_vs_cameras.png)\n";
  }
  {
    // Experiment 2, in part: the served model's accuracy over time (mean
    // over cameras per window index), most cameras, first budget.
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    auto n = s.cameras.back();
    for (auto& name : s.policies)
      for (size_t w = 0; w < s.windows && s.planned(name, n, s.budgets[0]); ++w) {
        double sum = 0;
        size_t k = 0;
        for (auto& r : rows)
          if (r.policy == name && r.cameras == n
              && r.budget == s.budgets[0] && r.window == w && !r.sparse) {
            sum += r.map;
            ++k;
          }
        if (k > 0)
          series[name].emplace_back(static_cast<double>(w), sum / k);
      }
    plot(s.out + "/map_over_time.png", "mean mAP@0.5 per window ("
         + std::to_string(n) + " cameras, budget "
         + std::to_string(s.budgets[0]) + ")", "window", series);
    rep << "\n![mAP over time](map_over_time.png)\n";
    // Experiment 5, in part: the zoo's size and the share of windows served
    // from it, per window index, for the policies that keep a zoo.
    std::map<std::string, std::vector<std::pair<double, double>>> zoo, reuse;
    for (auto& name : s.policies) {
      // Only policies that serve from the zoo (others may fill one unused).
      bool serves = false;
      for (auto& r : rows)
        serves = serves || (r.policy == name && r.source == "zoo");
      for (size_t w = 0;
           serves && w < s.windows && s.planned(name, n, s.budgets[0]); ++w) {
        double size = 0, served = 0;
        size_t k = 0;
        for (auto& r : rows)
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
      plot(s.out + "/zoo_over_time.png", "zoo size per window ("
           + std::to_string(n) + " cameras)", "window", zoo, 0);
      plot(s.out + "/reuse_over_time.png", "share of windows served from "
           "the zoo (" + std::to_string(n) + " cameras)", "window", reuse);
      rep << "\n![zoo size over time](zoo_over_time.png)\n"
             "![reuse over time](reuse_over_time.png)\n";
    }
    // Experiment 5: RECL's per-window compute over time (means over the
    // cameras): labelling, selection and safety check.
    if (s.planned("recl", n, s.budgets[0])) {
      std::map<std::string, std::vector<std::pair<double, double>>> ms;
      for (size_t w = 0; w < s.windows; ++w) {
        double te = 0, se = 0, ce = 0;
        size_t k = 0;
        for (auto& r : rows)
          if (r.policy == "recl" && r.cameras == n
              && r.budget == s.budgets[0] && r.window == w) {
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
        plot(s.out + "/compute_over_time.png", "RECL's compute per window, ms ("
             + std::to_string(n) + " cameras)", "window", ms, 0);
        rep << "![RECL's compute over time](compute_over_time.png)\n";
      }
    }
  }
  if (s.budgets.size() > 1) {
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    auto n = s.sweep_cameras;
    for (auto& name : s.policies)
      for (auto b : s.budgets)
        if (s.planned(name, n, b))
          series[name].emplace_back(b, mean_map[{name, n, b}]);
    plot(s.out + "/map_vs_budget.png", "mean mAP@0.5 vs budget ("
         + std::to_string(n) + " cameras)", "micro-windows per window",
         series);
    rep << "\n![mAP vs budget](map_vs_budget.png)\n";
  }
  // Experiment 2: selectors on the same zoo, from runs of "selectors"
  // (gating serves; every zoo expert is also evaluated on each window).
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
        << " cameras, budget " << b << ")\n\nWindows where gating, "
           "ODIN and the oracle each had a pick from the zoo: "
        << k << ". Accuracy on each window's teacher-labelled frames of "
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
      plot(s.out + "/" + file, "selected model's accuracy per window ("
           + std::to_string(n) + " cameras)", "window", series);
      rep << "\n![selectors](" << file << ")\n";
    }
  }
  // Experiment 3, profiled: retraining the edge's previous model on the
  // window's frames until it matched the zoo expert RECL served at once.
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
      rep << cv::format("| %zu | %d | %zu | %zu | %s | %s | %zu | %.0f |\n", n, b,
                        it->second.curves.size(), ep.size(),
                        ep.empty() ? "-" : cv::format("%.0f", percentile(ep, 50)).c_str(),
                        sec.empty() ? "-" : cv::format("%.1f", percentile(sec, 50)).c_str(),
                        missed, percentile(reply, 50));
    }
  }
  // Experiment 6: ablations next to RECL with the same cameras and budget.
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
  // Experiment 1's second half: the smallest budget in this run at which
  // each other policy's mean mAP reached RECL's at each budget.
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
    rep << "\n## Budget needed to match RECL (" << n << " cameras)\n\n"
           "The smallest budget of this run at which each policy's mean "
           "mAP@0.5 reached RECL's at the budget of the column (\"> B\": "
           "not within the budgets run).\n\n| policy |";
    for (auto b : budgets)
      rep << " RECL at " << b << " (" << cv::format("%.3f", mean_map[{"recl", n, b}])
          << ") |";
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
  if (s.reuse_matrix) {
    rep << "\n## The reuse premise (experiment 7)\n\nOne expert per place "
           "fine-tuned on a window of that place's first held-out clip, "
           "scored on a later clip of every place (car AP; recl-bench-reuse, "
           "run now as part of this run, exit code "
        << s.reuse_code << "; output also in reuse.txt):\n\n```\n"
        << s.reuse_text << "```\n";
  }
  rep << "\nEvery number above comes from this run (" << s.out
      << "/windows.csv has one row per window). Each other experiment has "
         "its section above when its runs were part of the plan. "
      << (s.reuse_matrix ? "" : "Not run: the reuse matrix (7: "
                                "--reuse-matrix). ")
      << (std::find(s.policies.begin(), s.policies.end(), "selectors")
              != s.policies.end()
            ? ""
            : "Not run: the same-zoo comparison of selectors (2: policy "
              "'selectors'). ")
      << "The held-out slices that measure training gains are a few "
         "frames per window and the public footage allows only a few "
         "windows per camera, so differences of a few hundredths between "
         "policies are within noise.\n";
  rep << "\nWall time: " << (now_ms() - s.t_start) / 1000 << " s.\n";
}

} // namespace recl::bench
