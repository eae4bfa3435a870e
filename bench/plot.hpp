#pragma once
// Line plots for benchmark reports, drawn with OpenCV (no plotting library
// in Debian's C++ world that we would want to depend on).

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace recl::bench {

/// A line plot of `series` (policy -> (x, y)) with OpenCV, y in [0, ymax]
/// (0: the largest y).
inline void plot(
  const std::string& path, const std::string& title, const std::string& xlabel,
  const std::map<std::string, std::vector<std::pair<double, double>>>& series,
  double ymax = 1.0) {
  const int W = 720, H = 480, L = 70, R = 180, T = 40, B = 60;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  double xmin = 1e300, xmax = -1e300;
  for (auto& [name, pts] : series)
    for (auto& p : pts) {
      xmin = std::min(xmin, p.first);
      xmax = std::max(xmax, p.first);
    }
  if (xmax <= xmin)
    xmax = xmin + 1;
  if (ymax <= 0) {
    for (auto& [name, pts] : series)
      for (auto& p : pts)
        ymax = std::max(ymax, p.second);
    if (ymax <= 0)
      ymax = 1;
  }
  auto px = [&](double x) {
    return L + static_cast<int>((x - xmin) / (xmax - xmin) * (W - L - R));
  };
  auto py = [&](double y) {
    return H - B
           - static_cast<int>(std::clamp(y / ymax, 0.0, 1.0) * (H - T - B));
  };
  const cv::Scalar black(0, 0, 0);
  cv::rectangle(img, cv::Point(L, T), cv::Point(W - R, H - B), black);
  for (int k = 0; k <= 5; ++k) {
    double y = k / 5.0 * ymax;
    cv::putText(img, cv::format("%.3g", y), cv::Point(L - 40, py(y) + 5),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, black);
  }
  std::set<double> xs;
  for (auto& [name, pts] : series)
    for (auto& p : pts)
      xs.insert(p.first);
  for (auto x : xs)
    cv::putText(img, cv::format("%g", x), cv::Point(px(x) - 8, H - B + 20),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, black);
  cv::putText(img, xlabel, cv::Point(L + 150, H - 15), cv::FONT_HERSHEY_SIMPLEX,
              0.5, black);
  cv::putText(img, title, cv::Point(L, 25), cv::FONT_HERSHEY_SIMPLEX, 0.55,
              black);
  const cv::Scalar colors[] = {{200, 60, 30}, {30, 140, 30}, {30, 30, 200},
                               {150, 0, 150}, {0, 150, 150}, {120, 120, 0},
                               {80, 80, 80},  {0, 90, 255},  {255, 0, 120}};
  int i = 0;
  for (auto& [name, pts] : series) {
    auto c = colors[i % 9];
    for (size_t k = 0; k < pts.size(); ++k) {
      cv::Point here(px(pts[k].first), py(pts[k].second));
      cv::circle(img, here, 4, c, -1);
      if (k > 0)
        cv::line(img, cv::Point(px(pts[k - 1].first), py(pts[k - 1].second)),
                 here, c, 2);
    }
    cv::line(img, cv::Point(W - R + 10, T + 20 + 22 * i),
             cv::Point(W - R + 35, T + 20 + 22 * i), c, 2);
    cv::putText(img, name, cv::Point(W - R + 42, T + 25 + 22 * i),
                cv::FONT_HERSHEY_SIMPLEX, 0.5, c);
    ++i;
  }
  if (!cv::imwrite(path, img))
    throw std::runtime_error("cannot write " + path);
}

} // namespace recl::bench
