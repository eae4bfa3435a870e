// recl-bench's report: CSV files, report.md and plots, from the rows of
// one run. Every number comes from those rows.

#include "bench/bench_report.hpp"
#include "bench/report_sections.hpp"

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

/// One pairing key: the same frames under two policies.
using pair_key = std::tuple<uint64_t, std::string, size_t>;

/// Scored (non-sparse) rows of one run by (seed, camera, window); every
/// row with `sparse_too`.
std::map<pair_key, const window_row*>
scored(const std::vector<window_row>& rows, const std::string& policy, size_t n,
       int b, bool sparse_too = false) {
  std::map<pair_key, const window_row*> out;
  for (auto& r : rows)
    if (r.policy == policy && r.cameras == n && r.budget == b
        && (sparse_too || !r.sparse))
      out[{r.seed, r.camera, r.window}] = &r;
  return out;
}

/// RECL minus `other` on the frames both scored.
paired_ci paired(const std::map<pair_key, const window_row*>& mine,
                 const std::map<pair_key, const window_row*>& theirs) {
  return paired_difference(mine, theirs,
                           [](const window_row* r) { return r->map; });
}

std::string verdict(const paired_ci& c) {
  if (c.n < 2)
    return "too few pairs";
  if (!c.measurable())
    return "no measurable difference";
  return c.mean > 0 ? "RECL better" : "RECL worse";
}

/// RECL's windows by the source of the model it deployed, against AMS on
/// the same frames, with the winner's-curse gap.
std::string decomposition(const bench_settings& s,
                          const std::vector<window_row>& rows,
                          const std::map<pair_key, const window_row*>& mine,
                          size_t n, int b) {
  std::string out;
  // Decomposition: by where the model RECL deployed on a window came
  // from (what it served after the window before), RECL against AMS on
  // the same frames, and the winner's-curse gap: the served model's score
  // on the frames it was picked on minus its score on the next window.
  auto ams = s.planned("ams", n, b) ? scored(rows, "ams", n, b)
                                    : std::map<pair_key, const window_row*>{};
  std::map<std::string, std::vector<double>> vs_ams, gap;
  std::map<std::string, size_t> count;
  // Every RECL row, sparse ones too: a window's predecessor may be one.
  auto every = scored(rows, "recl", n, b, true);
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
  return out;
}

/// RECL minus AMS by how many windows the camera has been at its place
/// (roaming plans). On the arrival window both run a model chosen at the
/// place before; on the next one RECL can run a zoo expert chosen on the
/// arrival's frames while a retrained model still knows only the old place;
/// later both have trained here. This is where reuse can pay, and how much.
std::string by_arrival(const bench_settings& s,
                       const std::vector<window_row>& rows,
                       const std::map<pair_key, const window_row*>& mine,
                       size_t n, int b) {
  if (!s.planned("ams", n, b) || s.plan_name != "roaming")
    return {};
  auto ams = scored(rows, "ams", n, b);
  // Windows at the same place before this one, from every RECL row
  // (history and sparse windows count: the camera was there). The map's
  // order visits a camera's windows in turn.
  auto every = scored(rows, "recl", n, b, true);
  std::map<pair_key, size_t> since;
  for (auto& [k, r] : every) {
    auto& [seed, cam, w] = k;
    auto p = w > 0 ? every.find({seed, cam, w - 1}) : every.end();
    since[k] = p != every.end() && p->second->place == r->place
                 ? since[p->first] + 1
                 : 0;
  }
  std::map<size_t, std::vector<double>> d;
  for (auto& [k, r] : mine)
    if (auto i = ams.find(k); i != ams.end())
      d[std::min<size_t>(since[k], 3)].push_back(r->map - i->second->map);
  const char* names[] = {"arrival (both run the old place's model)",
                         "1 (first model chosen here)", "2", "3 or more"};
  std::string out = "\nRECL minus AMS on the same frames by the windows the "
                    "camera had spent at its place before this one.\n\n"
                    "| windows at the place | windows | RECL - AMS | 95% "
                    "interval |\n|---|---|---|---|\n";
  for (auto& [at, v] : d) {
    auto c = bootstrap_mean(v);
    out += cv::format("| %s | %zu | %+.3f | %s |\n", names[at], c.n, c.mean,
                      c.n > 1 ? cv::format("%+.3f..%+.3f", c.lo, c.hi).c_str()
                              : "-");
  }
  return out;
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
      "|---|---|---|---|---|---|---|\n",
      n, b);
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
                        "%s |\n",
                        other.c_str(), c.n, avg(a), avg(t), c.mean, c.lo, c.hi,
                        verdict(c).c_str());
    }
    out += decomposition(s, rows, mine, n, b);
    out += by_arrival(s, rows, mine, n, b);
  }
  return out;
}

/// The title and what was run, on what.
void write_header(std::ostream& rep, const bench_settings& s) {
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
      << " history windows per camera played but not scored"
      << (s.new_cameras ? ", then new cameras (fresh ids, the base expert on "
                          "their edges) join where they were and play the "
                          "scored windows"
                        : "")
      << "; " << s.seeds << " seed(s) per run"
      << ". Workload: " << s.windows << " windows per camera of up to " << s.T
      << " s of catalog video, " << s.sample_fps << " frames/s sent, "
      << s.eval_frames
      << " frames per window scored with the model deployed on the edge "
         "at that moment, against the labels of the teacher "
      << (s.teacher.empty() ? std::string{"YOLOX-Nano 416"} : s.teacher)
      << ". Budgets: " << s.budget_text
      << " micro-windows (epochs) of training per job, replay clock"
      << (s.train_windows > 1
            ? ", each job on its camera's last "
                + std::to_string(s.train_windows) + " windows' frames"
            : std::string{})
      << (s.stream ? ", jobs' models streamed to the edge (--stream-models: "
                     "each frame scored with the step the edge held at its "
                     "moment)"
                   : "")
      << ". Base expert: "
      << (s.base_given ? s.base : std::string{"YOLOX-Nano COCO weights"})
      << " at 256x160. Machine: " << std::thread::hardware_concurrency()
      << " cores, " << gpu::device_name()
      << ". mAP@0.5 and car AP rank every detection down to score 0.01 "
         "(COCO-style); mean F1 at 0.3 scores what the edge reports (boxes "
         "with score >= 0.3) per frame against the teacher's.\n\n";
}

/// One line per run in report.md and in summary.csv (`sum`); fills
/// in.mean_map.
void summary_table(std::ostream& rep, std::ostream& sum, report_input& in) {
  auto& s = in.s;
  auto& rows = in.rows;
  auto& mean_map = in.mean_map;
  auto& wall = in.wall;
  rep << "| policy | cameras | budget | windows | scored | sparse (left "
         "out) | mean mAP@0.5 | 1st pct mAP | mean car AP | mean F1 at 0.3 | "
         "mean reply ms | wall s |\n|---|---|---|---|---|---|---|---|---|---|"
         "---|---|\n";
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
                  name.c_str(), n, b, total, maps.size(), sparse, mean(maps),
                  percentile(maps, 1), mean(cars), mean(f1s), mean(reply),
                  wall[{name, n, b}]);
    rep << line;
    mean_map[{name, n, b}] = mean(maps);
    sum << name << "," << n << "," << b << "," << total << "," << maps.size()
        << "," << sparse << "," << mean(maps) << "," << percentile(maps, 1)
        << "," << mean(cars) << "," << cars.size() << "," << mean(reply) << ","
        << wall[{name, n, b}] << "," << mean(f1s) << "\n";
  }
}

/// Every run where another policy's mean mAP@0.5 reached RECL's with the
/// same cameras and budget, plainly.
void where_recl_loses(std::ostream& rep, report_input& in) {
  auto& s = in.s;
  auto& mean_map = in.mean_map;
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
}

/// The reuse matrix if it ran, what did not run, and the wall time.
void write_footer(std::ostream& rep, const bench_settings& s) {
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
      << (s.reuse_matrix ? ""
                         : "Not run: the reuse matrix (7: "
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

} // namespace

const char* const window_csv_header
  = "policy,cameras,budget,camera,window,clip,place,deployed,served,"
    "source,map,car_ap,sparse,reply_ms,zoo_size,candidates,teacher_ms,"
    "select_ms,check_ms,served_acc,sel_gating,sel_odin,sel_oracle,f1,seed,"
    "history,streamed";

std::string to_csv(const window_row& r) {
  std::ostringstream f;
  f.precision(10);
  f << r.policy << "," << r.cameras << "," << r.budget << "," << r.camera << ","
    << r.window << "," << r.clip << "," << r.place << "," << r.deployed << ","
    << r.served << "," << r.source << "," << r.map << "," << r.car_ap << ","
    << (r.sparse ? 1 : 0) << "," << r.reply_ms << "," << r.zoo_size << ","
    << r.candidates << "," << r.teacher_ms << "," << r.select_ms << ","
    << r.check_ms << "," << r.served_acc << "," << r.sel_gating << ","
    << r.sel_odin << "," << r.sel_oracle << "," << r.f1 << "," << r.seed << ","
    << (r.history ? 1 : 0) << "," << r.streamed;
  return f.str();
}

window_row from_csv(const std::string& line) {
  auto c = split(line, ',');
  // 26 cells: rows written before the streamed column.
  if (c.size() != 26 && c.size() != 27)
    throw std::runtime_error("a windows row has " + std::to_string(c.size())
                             + " cells, not 27");
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
    r.streamed = c.size() > 26 ? std::stoul(c[26]) : 0;
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
    << st.sched.busy_s << " " << st.sched.elapsed_s << " " << wall_s << " "
    << st.sched.devices << "\n";
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
  in >> st.zoo >> st.sched.training >> st.sched.profiling >> st.sched.selector_s
    >> st.sched.busy_s >> st.sched.elapsed_s >> wall_s;
  if (!in)
    return false;
  // The devices came later: runs saved before have one.
  if (uint32_t devices = 0; in >> devices && devices > 0)
    st.sched.devices = devices;
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
  {
    std::ofstream f{s.out + "/windows.csv"};
    f << window_csv_header << "\n";
    for (auto& r : all_rows)
      f << to_csv(r) << "\n";
  }
  // Everything below is about the scored windows only.
  report_input in{s, {}, stats, wall, {}};
  for (auto& r : all_rows)
    if (!r.history)
      in.rows.push_back(r);
  std::ofstream sum{s.out + "/summary.csv"};
  sum << "policy,cameras,budget,windows,scored,sparse,mean_map,p1_map,"
         "mean_car_ap,car_ap_windows,mean_reply_ms,wall_s,mean_f1\n";
  std::ofstream rep{s.out + "/report.md"};
  write_header(rep, s);
  summary_table(rep, sum, in);
  where_recl_loses(rep, in);
  auto paired_text = paired_section(s, in.rows);
  rep << paired_text;
  std::printf("%s", paired_text.c_str()); // the verdict, on the console too
  std::fflush(stdout);
  reuse_and_compute(rep, in);
  time_to_accuracy(rep, in);
  plot_vs_cameras(rep, in);
  plot_accuracy_over_time(rep, in);
  plot_zoo_over_time(rep, in);
  plot_compute_over_time(rep, in);
  plot_vs_budget(rep, in);
  selectors_section(rep, in);
  curves_section(rep, in);
  ablations_section(rep, in);
  budget_to_match(rep, in);
  devices_section(rep, in);
  write_footer(rep, s);
}

} // namespace recl::bench
