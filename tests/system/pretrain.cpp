// recl-pretrain end to end, in a small configuration: the real teacher labels
// real frames of the pretraining split into an on-disk cache, the expert is
// trained, written, and scored on held-out clips.

#include "common/util.hpp"
#include "gpu/expert.hpp"
#include "gpu/teacher.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <set>

using namespace recl;

TEST_CASE("recl-pretrain: a small configuration writes a base expert, scored "
          "on clips it never saw"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/models/base.pt";
  auto cache = tmp.path() + "/cache";
  std::vector<std::string> args{"--data",
                                data,
                                "--onnx-archive",
                                test::pretrained_archive(),
                                "--out",
                                out,
                                "--cache",
                                cache,
                                "--frames-per-clip",
                                "2",
                                "--eval-frames",
                                "2",
                                "--eval-per-place",
                                "1",
                                "--blend",
                                "0.3"};
  auto first = args;
  first.insert(first.end(), {"--epochs", "1", "--average", "0.9"});
  auto r = test::run(test::bin("recl-pretrain"), first, 600);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("epoch 1/1: loss") != std::string::npos);
  CHECK(r.out.find("blended 0.30 of the COCO weights back in")
        != std::string::npos);
  CHECK(r.out.find("mean car AP on ") != std::string::npos);
  // The split's clips are listed first; none of them is scored as held out.
  auto lines = split(r.out, '\n');
  std::set<std::string> split_ids;
  size_t i = 0;
  while (i < lines.size() && lines[i].rfind("pretraining split:", 0) != 0)
    ++i;
  for (++i; i < lines.size() && lines[i].rfind("  ", 0) == 0; ++i)
    split_ids.insert(split(lines[i].substr(2), ' ')[0]);
  CHECK(split_ids.size() >= 10);
  while (i < lines.size() && lines[i].rfind("held-out clip", 0) != 0)
    ++i;
  size_t held_out = 0;
  for (++i; i < lines.size() && !lines[i].empty()
            && lines[i].rfind("mean car AP", 0) != 0;
       ++i) {
    ++held_out;
    auto id = split(lines[i], ' ')[0];
    CHECK_MESSAGE(split_ids.count(id) == 0, id);
  }
  CHECK(held_out >= 20);

  // The base expert loads and still detects.
  REQUIRE(std::filesystem::exists(out));
  auto base = expert::load(out);
  auto bus = base->detect({to_image(cv::imread(data + "/images/bus.jpg"))});
  CHECK(bus[0].size() >= 2);
  CHECK_FALSE(std::filesystem::is_empty(cache));

  // A second run takes every label from the cache.
  auto second = args;
  second.insert(second.end(), {"--epochs", "0"});
  r = test::run(test::bin("recl-pretrain"), second, 600);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("frames (0 by the teacher now") != std::string::npos);
}

TEST_CASE("recl-pretrain: bad settings are refused before any work"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/base.pt";
  std::vector<std::string> ok{
    "--data", data, "--onnx-archive", test::pretrained_archive(),
    "--out",  out,  "--cache",        tmp.path() + "/cache"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = ok;
    a.insert(a.end(), extra.begin(), extra.end());
    return test::run(test::bin("recl-pretrain"), a, 60);
  };
  for (auto bad :
       std::vector<std::vector<std::string>>{{"--blend", "1.5"},
                                             {"--frozen", "5"},
                                             {"--input", "250x160"},
                                             {"--lr", "0"},
                                             {"--epochs", "-1"},
                                             {"--frames-per-clip", "x"},
                                             {"--average", "1"},
                                             {"--eval-skip", "-1"}}) {
    auto r = with(bad);
    CHECK_MESSAGE(r.code == 2, bad[0] << " " << bad[1]);
    CHECK(r.err.find("recl-pretrain: ") == 0);
  }
  auto r
    = test::run(test::bin("recl-pretrain"), {"--data", data, "--out", out}, 60);
  CHECK(r.code == 2);
  CHECK(r.err.find("--onnx-archive and --out are required")
        != std::string::npos);
  r = with({"--onnx-archive", tmp.path() + "/missing.pt"});
  CHECK(r.code == 1);
  CHECK(r.err.find("missing.pt") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out)); // nothing written on failure
  r = test::run(test::bin("recl-pretrain"), {"--help"}, 60);
  CHECK(r.code == 0);
  CHECK(r.out.find("--blend") != std::string::npos);
}
