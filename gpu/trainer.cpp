#include "gpu/trainer.hpp"

#include "gpu/expert_impl.hpp"
#include "gpu/metrics.hpp"
#include "gpu/torch_device.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <random>

namespace recl {

double detection_accuracy(const std::vector<std::vector<box>>& dets,
                          const std::vector<std::vector<box>>& truth) {
  auto m = mean_ap(dets, truth);
  if (!m.sparse)
    return m.map;
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i)
    sum += frame_score(dets[i], truth[i]);
  return truth.empty() ? 0 : sum / truth.size();
}

namespace {

using torch::indexing::Slice;

/// IoU of every box in `a` [G,4] with every box in `b` [A,4] (xyxy).
torch::Tensor pairwise_iou(const torch::Tensor& a, const torch::Tensor& b) {
  auto lt = torch::max(a.unsqueeze(1).narrow(2, 0, 2),
                       b.unsqueeze(0).narrow(2, 0, 2));
  auto rb = torch::min(a.unsqueeze(1).narrow(2, 2, 2),
                       b.unsqueeze(0).narrow(2, 2, 2));
  auto wh = (rb - lt).clamp_min(0);
  auto inter = wh.select(2, 0) * wh.select(2, 1);
  auto area = [](const torch::Tensor& x) {
    return (x.select(1, 2) - x.select(1, 0)).clamp_min(0)
           * (x.select(1, 3) - x.select(1, 1)).clamp_min(0);
  };
  return inter / (area(a).unsqueeze(1) + area(b).unsqueeze(0) - inter + 1e-9);
}

/// IoU of matching rows of `a` and `b` [K,4], differentiable.
torch::Tensor rowwise_iou(const torch::Tensor& a, const torch::Tensor& b) {
  auto lt = torch::max(a.narrow(1, 0, 2), b.narrow(1, 0, 2));
  auto rb = torch::min(a.narrow(1, 2, 2), b.narrow(1, 2, 2));
  auto wh = (rb - lt).clamp_min(0);
  auto inter = wh.select(1, 0) * wh.select(1, 1);
  auto area = [](const torch::Tensor& x) {
    return (x.select(1, 2) - x.select(1, 0)).clamp_min(0)
           * (x.select(1, 3) - x.select(1, 1)).clamp_min(0);
  };
  return inter / (area(a) + area(b) - inter + 1e-9);
}

/// Teacher boxes of one frame in letterboxed input coordinates: [G, 5]
/// (x0, y0, x1, y1, cls).
torch::Tensor targets_of(const std::vector<box>& labels, float scale) {
  auto t = torch::zeros({static_cast<int64_t>(labels.size()), 5});
  auto a = t.accessor<float, 2>();
  for (size_t i = 0; i < labels.size(); ++i) {
    a[i][0] = labels[i].x0 * scale;
    a[i][1] = labels[i].y0 * scale;
    a[i][2] = labels[i].x1 * scale;
    a[i][3] = labels[i].y1 * scale;
    a[i][4] = static_cast<float>(labels[i].cls);
  }
  return t.to(gpu::device());
}

} // namespace

struct trainer::impl {
  std::unique_ptr<expert> model;
  std::unique_ptr<expert> average; ///< with average_decay: the weights' EMA
  train_options opts;
  torch::Tensor x_train;
  std::vector<torch::Tensor> gt_train;
  torch::Tensor x_replay;
  std::vector<torch::Tensor> gt_replay;
  labelled_frames holdout;
  // Accuracy on the held-out slice since the last change of the weights:
  // a micro-window's "before" is usually the previous one's "after".
  std::optional<double> acc;
  std::unique_ptr<torch::optim::Optimizer> optim;
  int64_t steps = 0;
  std::mt19937_64 rng;
  torch::Tensor grid_xy, grid_s, centers;
  // Output of the frozen front for every frame, as is and flipped (the
  // input itself when nothing is frozen). Frozen weights never change, so
  // this is exact and saves the front's forward pass on every step.
  torch::Tensor f_train, f_train_flip, f_replay, f_replay_flip;

  /// Frozen stages whose output is cached: the front up to the second
  /// stage. Deeper frozen stages (dark4, dark5) feed the neck at several
  /// scales; they are recomputed on every step, without gradients.
  int cached_stages() const { return std::min(opts.frozen_stages, 2); }

  void cache_front() {
    torch::NoGradGuard no_grad;
    auto& net = model->internals().net;
    auto run = [&](const torch::Tensor& x, torch::Tensor& out,
                   torch::Tensor& out_flip) {
      if (!x.defined())
        return;
      std::vector<torch::Tensor> a, b;
      for (int64_t s = 0; s < x.size(0); s += 16) {
        auto chunk = x.narrow(0, s, std::min<int64_t>(16, x.size(0) - s));
        a.push_back(net->front(chunk, cached_stages()));
        b.push_back(net->front(chunk.flip({3}), cached_stages()));
      }
      out = torch::cat(a, 0);
      out_flip = torch::cat(b, 0);
    };
    run(x_train, f_train, f_train_flip);
    run(x_replay, f_replay, f_replay_flip);
  }

  void prepare(const labelled_frames& in, torch::Tensor& x,
               std::vector<torch::Tensor>& gts) {
    if (in.frames.empty())
      return;
    if (in.frames.size() != in.labels.size())
      throw std::invalid_argument(
        "labelled frames: " + std::to_string(in.frames.size()) + " frames but "
        + std::to_string(in.labels.size()) + " label sets");
    auto& o = model->options();
    std::vector<float> scales;
    x = preprocess(in.frames, o.input_width, o.input_height, scales);
    for (size_t i = 0; i < in.frames.size(); ++i)
      gts.push_back(targets_of(in.labels[i], scales[i]));
  }

  /// SimOTA assignment and the YOLOX loss for one batch.
  torch::Tensor loss(const torch::Tensor& x,
                     const std::vector<torch::Tensor>& gts) {
    auto raw = yolox::flatten(
      model->internals().net->forward_from(x, cached_stages()));
    auto xy = (raw.narrow(2, 0, 2) + grid_xy) * grid_s;
    auto wh = torch::exp(raw.narrow(2, 2, 2).clamp_max(10)) * grid_s;
    auto pred_boxes = torch::cat({xy - wh / 2, xy + wh / 2}, 2); // [B,A,4]
    auto obj = raw.select(2, 4);                                 // [B,A]
    auto cls = raw.narrow(2, 5, raw.size(2) - 5);                // [B,A,C]
    const auto num_classes = cls.size(2);
    const auto anchors = raw.size(1);
    auto total_iou = torch::zeros({}, x.options());
    auto total_cls = torch::zeros({}, x.options());
    auto obj_target = torch::zeros_like(obj);
    double num_fg = 0;
    for (int64_t b = 0; b < raw.size(0); ++b) {
      auto& gt = gts[static_cast<size_t>(b)];
      if (gt.size(0) == 0)
        continue;
      auto gboxes = gt.narrow(1, 0, 4);
      auto gcls = gt.select(1, 4).to(torch::kLong);
      torch::Tensor fg_idx, matched_gt, cls_target;
      {
        torch::NoGradGuard no_grad;
        auto cx = centers.select(1, 0).unsqueeze(0); // [1,A]
        auto cy = centers.select(1, 1).unsqueeze(0);
        auto in_box = (cx > gboxes.select(1, 0).unsqueeze(1))
                      & (cx < gboxes.select(1, 2).unsqueeze(1))
                      & (cy > gboxes.select(1, 1).unsqueeze(1))
                      & (cy < gboxes.select(1, 3).unsqueeze(1));
        auto gcx
          = ((gboxes.select(1, 0) + gboxes.select(1, 2)) / 2).unsqueeze(1);
        auto gcy
          = ((gboxes.select(1, 1) + gboxes.select(1, 3)) / 2).unsqueeze(1);
        auto radius = 2.5 * grid_s.squeeze(1).unsqueeze(0);
        auto in_center
          = ((cx - gcx).abs() < radius) & ((cy - gcy).abs() < radius);
        auto candidate = (in_box | in_center).any(0); // [A]
        auto cand_idx = torch::nonzero(candidate).squeeze(1);
        if (cand_idx.numel() == 0)
          continue;
        auto pb = pred_boxes[b].index_select(0, cand_idx);
        auto ious = pairwise_iou(gboxes, pb); // [G,Af]
        auto prob
          = (torch::sigmoid(cls[b].index_select(0, cand_idx))
             * torch::sigmoid(obj[b].index_select(0, cand_idx)).unsqueeze(1))
              .sqrt(); // [Af,C]
        auto onehot = torch::one_hot(gcls, num_classes).to(torch::kFloat32);
        auto cls_cost = torch::binary_cross_entropy(
                          prob.unsqueeze(0).expand({gt.size(0), -1, -1}),
                          onehot.unsqueeze(1).expand({-1, prob.size(0), -1}),
                          {}, at::Reduction::None)
                          .sum(2);
        auto both = (in_box & in_center).index_select(1, cand_idx);
        auto cost = cls_cost + 3.0 * -torch::log(ious + 1e-8)
                    + 1e5 * (~both).to(torch::kFloat32);
        auto k_top = std::min<int64_t>(10, ious.size(1));
        auto dyn_k = std::get<0>(ious.topk(k_top, 1))
                       .sum(1)
                       .to(torch::kInt)
                       .clamp_min(1);
        auto matching = torch::zeros_like(cost);
        auto dyn_k_host = dyn_k.cpu(); // an accessor reads host memory
        auto dk = dyn_k_host.accessor<int, 1>();
        for (int64_t g = 0; g < gt.size(0); ++g) {
          auto k = std::min<int64_t>(dk[g], cost.size(1));
          auto pos = std::get<1>(cost[g].topk(k, 0, false));
          matching[g].index_fill_(0, pos, 1.0);
        }
        auto multi = matching.sum(0) > 1;
        if (multi.any().item<bool>()) {
          auto cols = torch::nonzero(multi).squeeze(1);
          auto best = std::get<1>(cost.index_select(1, cols).min(0));
          auto fixed = torch::one_hot(best, gt.size(0)).t().to(torch::kFloat32);
          matching.index_copy_(1, cols, fixed);
        }
        auto fg = matching.sum(0) > 0;
        auto local = torch::nonzero(fg).squeeze(1);
        fg_idx = cand_idx.index_select(0, local);
        matched_gt = std::get<1>(matching.index_select(1, local).max(0));
        auto pred_iou = ious.index_select(1, local)
                          .gather(0, matched_gt.unsqueeze(0))
                          .squeeze(0);
        cls_target = onehot.index_select(0, matched_gt) * pred_iou.unsqueeze(1);
        obj_target[b].index_fill_(0, fg_idx, 1.0);
      }
      num_fg += static_cast<double>(fg_idx.numel());
      auto pb = pred_boxes[b].index_select(0, fg_idx);
      auto iou = rowwise_iou(pb, gboxes.index_select(0, matched_gt));
      total_iou = total_iou + (1 - iou.pow(2)).sum();
      total_cls = total_cls
                  + torch::binary_cross_entropy_with_logits(
                    cls[b].index_select(0, fg_idx), cls_target, {}, {},
                    at::Reduction::Sum);
    }
    auto total_obj = torch::binary_cross_entropy_with_logits(
      obj, obj_target, {}, {}, at::Reduction::Sum);
    (void)anchors;
    return (5.0 * total_iou + total_obj + total_cls) / std::max(1.0, num_fg);
  }

  double train_one_epoch() {
    auto& net = model->internals().net;
    net->train();
    auto n = static_cast<size_t>(x_train.size(0));
    std::vector<std::pair<int, size_t>>
      order; // (0 = window, 1 = replay, index)
    for (size_t i = 0; i < n; ++i)
      order.emplace_back(0, i);
    if (x_replay.defined() && opts.replay_share > 0) {
      auto extra = static_cast<size_t>(std::lround(opts.replay_share * n));
      std::uniform_int_distribution<size_t> pick(0, gt_replay.size() - 1);
      for (size_t i = 0; i < extra; ++i)
        order.emplace_back(1, pick(rng));
    }
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    size_t batches = 0;
    std::bernoulli_distribution coin(0.5);
    for (size_t start = 0; start < order.size(); start += opts.batch) {
      auto end = std::min(order.size(), start + opts.batch);
      std::vector<torch::Tensor> xs;
      std::vector<torch::Tensor> gts;
      auto width = static_cast<float>(model->options().input_width);
      for (size_t j = start; j < end; ++j) {
        auto [src, i] = order[j];
        auto flipped = opts.flip && coin(rng);
        // The frozen front's output, cached per frame and flip.
        auto& feats = src == 0 ? (flipped ? f_train_flip : f_train)
                               : (flipped ? f_replay_flip : f_replay);
        auto x = feats[static_cast<int64_t>(i)];
        auto g = (src == 0 ? gt_train : gt_replay)[i];
        if (flipped) {
          g = g.clone();
          auto x0 = width - g.select(1, 2);
          auto x1 = width - g.select(1, 0);
          g.select(1, 0).copy_(x0);
          g.select(1, 2).copy_(x1);
        }
        xs.push_back(x);
        gts.push_back(g);
      }
      auto warm = std::min(1.0, static_cast<double>(steps + 1)
                                  / std::max(1, opts.warmup_steps));
      auto lr = opts.lr * (0.1 + 0.9 * warm);
      for (auto& group : optim->param_groups())
        group.options().set_lr(lr);
      optim->zero_grad();
      auto l = loss(torch::stack(xs), gts);
      l.backward();
      torch::nn::utils::clip_grad_norm_(net->parameters(), 10.0);
      optim->step();
      ++steps;
      if (average) {
        // Warm-up of the decay: early steps move the average further.
        auto d = std::min(opts.average_decay, (1.0 + steps) / (10.0 + steps));
        average->blend(*model, 1 - d);
      }
      loss_sum += l.item<double>();
      ++batches;
    }
    net->eval();
    return batches ? loss_sum / batches : 0;
  }
};

trainer::trainer(std::unique_ptr<expert> model, labelled_frames train,
                 labelled_frames holdout, train_options opts,
                 labelled_frames replay)
  : impl_(std::make_unique<impl>()) {
  if (!model)
    throw std::invalid_argument("trainer: no model");
  if (train.frames.empty())
    throw std::invalid_argument("trainer: no frames to train on");
  if (opts.batch == 0)
    throw std::invalid_argument("trainer: batch must be positive");
  if (!(opts.average_decay >= 0 && opts.average_decay < 1))
    throw std::invalid_argument("trainer: average_decay must be in [0, 1)");
  impl_->model = std::move(model);
  impl_->opts = opts;
  impl_->rng.seed(opts.seed);
  torch::manual_seed(opts.seed);
  impl_->prepare(train, impl_->x_train, impl_->gt_train);
  impl_->prepare(replay, impl_->x_replay, impl_->gt_replay);
  impl_->holdout = std::move(holdout);
  auto& o = impl_->model->options();
  std::tie(impl_->grid_xy, impl_->grid_s)
    = yolox::grid(o.input_height, o.input_width, gpu::device());
  impl_->centers = (impl_->grid_xy + 0.5) * impl_->grid_s;
  auto& net = impl_->model->internals().net;
  if (opts.frozen_stages < 0 || opts.frozen_stages > max_frozen_stages)
    throw std::invalid_argument("trainer: frozen_stages must be 0 to "
                                + std::to_string(max_frozen_stages));
  for (auto& p : net->parameters())
    p.set_requires_grad(true); // a model from an earlier job may carry flags
  std::vector<torch::nn::Module*> frozen;
  if (opts.frozen_stages >= 1)
    frozen = {net->stem.get(), net->dark2_down.get(), net->dark2.get()};
  if (opts.frozen_stages >= 2) {
    frozen.push_back(net->dark3_down.get());
    frozen.push_back(net->dark3.get());
  }
  if (opts.frozen_stages >= 3) {
    frozen.push_back(net->dark4_down.get());
    frozen.push_back(net->dark4.get());
  }
  if (opts.frozen_stages >= 4) {
    frozen.push_back(net->dark5_down.get());
    frozen.push_back(net->dark5_spp.get());
    frozen.push_back(net->dark5.get());
  }
  for (auto* m : frozen)
    for (auto& p : m->parameters())
      p.set_requires_grad(false);
  std::vector<torch::Tensor> params;
  for (auto& p : net->parameters())
    if (p.requires_grad())
      params.push_back(p);
  impl_->cache_front();
  if (opts.average_decay > 0)
    impl_->average = impl_->model->clone();
  if (opts.optimizer == "sgd")
    impl_->optim = std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(opts.lr)
                .momentum(0.9)
                .nesterov(true)
                .weight_decay(opts.weight_decay));
  else if (opts.optimizer == "adam")
    impl_->optim = std::make_unique<torch::optim::Adam>(
      params,
      torch::optim::AdamOptions(opts.lr).weight_decay(opts.weight_decay));
  else
    throw std::invalid_argument("trainer: unknown optimizer '" + opts.optimizer
                                + "' (sgd or adam)");
}

trainer::~trainer() = default;

size_t trainer::trainable_parameters() const {
  size_t n = 0;
  for (auto& p : impl_->model->internals().net->parameters())
    if (p.requires_grad())
      n += static_cast<size_t>(p.numel());
  return n;
}

double trainer::evaluate() {
  if (impl_->holdout.frames.empty())
    return 0;
  if (!impl_->acc) {
    auto& scored = impl_->average ? *impl_->average : *impl_->model;
    auto dets = scored.detect_for_scoring(impl_->holdout.frames);
    impl_->acc = detection_accuracy(dets, impl_->holdout.labels);
  }
  return *impl_->acc;
}

step_result trainer::micro_window() {
  step_result r;
  r.acc_before = evaluate();
  auto t0 = std::chrono::steady_clock::now();
  impl_->acc.reset();
  r.loss = impl_->train_one_epoch();
  r.seconds
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  r.images = static_cast<size_t>(impl_->x_train.size(0));
  r.acc_after = evaluate();
  r.gain_per_s = (r.acc_after - r.acc_before) / std::max(1e-6, r.seconds);
  return r;
}

double trainer::train_epochs(int epochs) {
  double loss = 0;
  impl_->acc.reset();
  for (int e = 0; e < epochs; ++e)
    loss = impl_->train_one_epoch();
  return loss;
}

expert& trainer::model() {
  impl_->acc.reset(); // the caller may change it
  return impl_->average ? *impl_->average : *impl_->model;
}

std::unique_ptr<expert> trainer::release() {
  return std::move(impl_->average ? impl_->average : impl_->model);
}

} // namespace recl
