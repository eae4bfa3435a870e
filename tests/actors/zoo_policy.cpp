// The zoo's policies as plain functions: admission (alpha, gamma), pruning
// (eta over the last q selections) and the safety check's selection rules.

#include "actors/zoo_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace recl;

TEST_CASE(
  "zoo policy: promising means beating every other candidate by alpha") {
  CHECK(promising(0.52, {0.50, 0.40}, 0.02));
  CHECK_FALSE(promising(0.519, {0.50, 0.40}, 0.02));
  CHECK_FALSE(promising(0.60, {0.59}, 0.02));
  CHECK(promising(0.10, {}, 0.02));
}

TEST_CASE(
  "zoo policy: pruning counts the last q selections and spares young experts") {
  selection_log log{10};
  std::map<std::string, uint64_t> zoo{{"old", 0}, {"young", 5}};
  uint64_t seq = 0;
  // 9 selections: nobody has seen q = 10 selections yet.
  for (int i = 0; i < 9; ++i)
    log.record(seq++, i < 3 ? "old" : "base");
  CHECK(log.to_prune(zoo, 4).empty());
  // The 10th: "old" was chosen 3 < eta = 4 times in the last 10.
  log.record(seq++, "base");
  CHECK(log.to_prune(zoo, 4) == std::vector<std::string>{"old"});
  CHECK(log.to_prune(zoo, 3).empty()); // 3 >= eta = 3 keeps it
  // The window slides: the oldest selections drop out.
  auto dropped = log.record(seq++, "young");
  CHECK(dropped == std::vector<uint64_t>{0});
  CHECK(log.count("old") == 2);
  // "young" was admitted at 5: judged from selection 15 on.
  for (int i = 0; i < 3; ++i)
    log.record(seq++, "young");
  CHECK(log.total() == 14);
  CHECK(log.to_prune(zoo, 4) == std::vector<std::string>{"old"});
  log.record(seq++, "base");
  CHECK(log.count("young") == 4);
  CHECK(log.to_prune(zoo, 4) == std::vector<std::string>{"old"});
  CHECK(log.to_prune(zoo, 5) == std::vector<std::string>{"old", "young"});
}

TEST_CASE(
  "zoo policy: the safety checker never serves a model worse than the edge's") {
  // Hand cases.
  CHECK(safety_choice({"a", "b", "cur"}, {0.5f, 0.7f, 0.6f}, "cur") == 1);
  CHECK(safety_choice({"a", "b", "cur"}, {0.5f, 0.6f, 0.6f}, "cur") == 3);
  CHECK(safety_choice({"a", "cur"}, {0.9f, 0.95f}, "cur") == 2);
  CHECK(safety_choice({"a", "b"}, {-1.0f, 0.2f}, "") == 1);  // edge runs none
  CHECK(safety_choice({"a", "b"}, {-1.0f, -1.0f}, "") == 2); // none scored
  CHECK(safety_choice({"a", "b"}, {0.3f, 0.3f}, "") == 0);   // ties: the first
  // The edge's model could not be scored (e.g. pruned): the best scored wins.
  CHECK(safety_choice({"a", "cur"}, {0.1f, -1.0f}, "cur") == 0);
  // Random cases: whatever is chosen scores strictly above the edge's model.
  std::mt19937 rng{7};
  std::uniform_real_distribution<float> u{0.f, 1.f};
  for (int t = 0; t < 2000; ++t) {
    size_t n = 1 + rng() % 12;
    std::vector<std::string> ids;
    std::vector<float> sc;
    for (size_t i = 0; i < n; ++i) {
      ids.push_back("m" + std::to_string(i));
      sc.push_back(rng() % 5 == 0 ? -1.0f : std::round(u(rng) * 20) / 20);
    }
    auto cur = ids[rng() % n];
    auto c = safety_choice(ids, sc, cur);
    float cur_score = sc[static_cast<size_t>(
      std::find(ids.begin(), ids.end(), cur) - ids.begin())];
    if (c < n) {
      CHECK(ids[c] != cur);
      CHECK(sc[c] > cur_score);
      for (float s : sc)
        CHECK(sc[c] >= s);
    } else {
      for (size_t i = 0; i < n; ++i)
        if (ids[i] != cur && cur_score >= 0)
          CHECK(sc[i] <= cur_score);
    }
  }
}

TEST_CASE("zoo policy: for room, the least chosen expert goes first, the "
          "oldest of equals") {
  selection_log log{10};
  CHECK(log.least_chosen({}).empty());
  std::map<std::string, uint64_t> zoo{{"a", 0}, {"b", 2}, {"c", 1}};
  uint64_t seq = 0;
  for (auto id : {"a", "a", "b", "c", "b"})
    log.record(seq++, id);
  // b: 2, a: 2, c: 1
  CHECK(log.least_chosen(zoo) == "c");
  log.record(seq++, "c");
  // all three chosen twice: the oldest admitted goes
  CHECK(log.least_chosen(zoo) == "a");
}

TEST_CASE("zoo policy: confirm picks on one half of the frames and serves only "
          "what the other half confirms") {
  // "a" wins the picking half but not the confirming one: keep.
  CHECK(safety_choice({"a", "b", "cur"}, {0.9f, 0.5f, 0.6f},
                      {0.55f, 0.8f, 0.6f}, "cur")
        == 3);
  // "a" wins the picking half and beats the edge's model on the other:
  // served, even though "b" scores higher on the confirming half.
  CHECK(safety_choice({"a", "b", "cur"}, {0.9f, 0.5f, 0.6f}, {0.7f, 0.8f, 0.6f},
                      "cur")
        == 0);
  // The edge's own model wins the picking half: keep.
  CHECK(safety_choice({"a", "cur"}, {0.5f, 0.6f}, {0.9f, 0.1f}, "cur") == 2);
  // No model on the edge: the picking half decides.
  CHECK(safety_choice({"a", "b"}, {0.2f, 0.4f}, {0.9f, 0.1f}, "") == 1);
  // Equal halves: the same as the one-set rule.
  std::mt19937 rng{11};
  std::uniform_real_distribution<float> u{0.f, 1.f};
  for (int t = 0; t < 500; ++t) {
    std::vector<std::string> ids{"a", "b", "c", "cur"};
    std::vector<float> sc;
    for (size_t i = 0; i < ids.size(); ++i)
      sc.push_back(std::round(u(rng) * 10) / 10);
    CHECK(safety_choice(ids, sc, sc, "cur") == safety_choice(ids, sc, "cur"));
  }
  // Winner's curse: eleven candidates truly a little worse than the edge's
  // model, scores noisy. Picking the best of all on the same frames it is
  // judged on swaps to a worse model most of the time; confirming on
  // frames that played no part in the pick rarely does.
  std::normal_distribution<float> noise{0.f, 0.05f};
  int swaps_all = 0, swaps_confirm = 0;
  for (int t = 0; t < 2000; ++t) {
    std::vector<std::string> ids{"cur"};
    std::vector<float> truth{0.6f};
    for (int i = 0; i < 11; ++i) {
      ids.push_back("m" + std::to_string(i));
      truth.push_back(0.6f - 0.05f * u(rng));
    }
    std::vector<float> a, b, all;
    for (auto x : truth) {
      a.push_back(x + noise(rng));
      b.push_back(x + noise(rng));
      all.push_back((a.back() + b.back()) / 2);
    }
    swaps_all += safety_choice(ids, all, "cur") < ids.size();
    swaps_confirm += safety_choice(ids, a, b, "cur") < ids.size();
  }
  MESSAGE("swaps to a worse model: best on all "
          << swaps_all << ", confirmed " << swaps_confirm << " of 2000");
  CHECK(swaps_confirm * 2 < swaps_all);
}

TEST_CASE("zoo policy: the camera's own line is its retrained model unless "
          "the edge's model scored higher") {
  std::vector<std::string> ids{"z1", "cur", "own"};
  CHECK(line_of(ids, {.9f, .5f, .6f}, "cur", "own") == 2);
  CHECK(line_of(ids, {.9f, .6f, .6f}, "cur", "own") == 2); // a tie: retrained
  CHECK(line_of(ids, {.9f, .7f, .6f}, "cur", "own") == 1);
  // Not retrained yet, or the retrained model was not scored: the edge's.
  CHECK(line_of(ids, {.9f, .7f, .6f}, "cur", "") == 1);
  CHECK(line_of(ids, {.9f, .7f, -1.f}, "cur", "own") == 1);
  // Neither scored (the edge runs nothing, nothing retrained): none.
  CHECK(line_of(ids, {.9f, .7f, .6f}, "", "") == ids.size());
  // A zoo expert is never the line, however well it scored.
  CHECK(line_of(ids, {1.f, .1f, .1f}, "cur", "own") == 2);
}

TEST_CASE("zoo policy: lineage serves the camera's own line unless a confirmed "
          "candidate beats it") {
  // ids: two zoo experts, the edge's model, the camera's retrained model.
  std::vector<std::string> ids{"z1", "z2", "cur", "own"};
  auto choose
    = [&](std::vector<float> all, std::vector<float> a, std::vector<float> b) {
        return lineage_choice(ids, all, a, b, "cur", "own");
      };
  // The retrained model beats the edge's on all frames: served, with no
  // confirmation needed (AMS's rule), even though z1 wins the picking half
  // -- z1 does not beat it on the confirming half.
  CHECK(choose({.5f, .5f, .6f, .7f}, {.9f, .5f, .6f, .7f}, {.5f, .5f, .6f, .7f})
        == 3);
  // z1 wins the picking half and beats the line on the confirming one.
  CHECK(
    choose({.7f, .5f, .6f, .65f}, {.8f, .5f, .6f, .7f}, {.75f, .5f, .6f, .6f})
    == 0);
  // The edge's model is the line (retrained worse) and nothing confirms:
  // keep.
  CHECK(
    choose({.5f, .5f, .6f, .55f}, {.9f, .5f, .6f, .55f}, {.5f, .5f, .6f, .55f})
    == 4);
  // A tie on all frames goes to the retrained model (the fresher), also
  // where nothing can tell them apart.
  CHECK(choose({.5f, .5f, .7f, .7f}, {.5f, .5f, .7f, .7f}, {.5f, .5f, .7f, .7f})
        == 3);
  CHECK(choose({1.f, 1.f, 1.f, 1.f}, {1.f, 1.f, 1.f, 1.f}, {1.f, 1.f, 1.f, 1.f})
        == 3);
  // The line wins the picking half: served as it is.
  CHECK(choose({.5f, .5f, .6f, .7f}, {.5f, .5f, .6f, .7f}, {.5f, .5f, .6f, .7f})
        == 3);
  // No retrained model yet: the same as confirm against the edge's model.
  std::mt19937 rng{5};
  std::uniform_real_distribution<float> u{0.f, 1.f};
  for (int t = 0; t < 500; ++t) {
    std::vector<std::string> xs{"a", "b", "cur"};
    std::vector<float> all, a, b;
    for (int i = 0; i < 3; ++i) {
      a.push_back(std::round(u(rng) * 10) / 10);
      b.push_back(std::round(u(rng) * 10) / 10);
      all.push_back((a.back() + b.back()) / 2);
    }
    CHECK(lineage_choice(xs, all, a, b, "cur", "")
          == safety_choice(xs, a, b, "cur"));
  }
  // The edge runs nothing: the picking half decides, confirmed against
  // the retrained model if there is one.
  CHECK(
    lineage_choice({"z", "own"}, {.5f, .4f}, {.6f, .4f}, {.5f, .4f}, "", "own")
    == 0);
  CHECK(lineage_choice({"z"}, {.5f}, {.6f}, {.5f}, "", "") == 0);
  // Whatever is served scores no worse on all frames than the better of
  // the edge's and the retrained model, or was confirmed on the other half.
  for (int t = 0; t < 2000; ++t) {
    std::vector<float> all, a, b;
    for (size_t i = 0; i < ids.size(); ++i) {
      a.push_back(std::round(u(rng) * 20) / 20);
      b.push_back(std::round(u(rng) * 20) / 20);
      all.push_back((a.back() + b.back()) / 2);
    }
    auto c = choose(all, a, b);
    auto line = all[3] >= all[2] ? 3u : 2u;
    if (c == ids.size())
      CHECK(line == 2u);
    else if (c != line) {
      CHECK(b[c] > b[line]);
      for (auto x : a)
        CHECK(a[c] >= x);
    }
  }
}

TEST_CASE("zoo policy: a queue is admitted exactly at gamma") {
  CHECK_FALSE(admit_now(1, 2));
  CHECK(admit_now(2, 2));
  CHECK(admit_now(3, 2));
  CHECK(admit_now(1, 1));
}
