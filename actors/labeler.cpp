// The labeler: decodes a window's frames and runs the teacher on each. It is
// detached (its own thread): the teacher takes tens of milliseconds a frame
// and must not block CAF's workers. The decoded frames travel on with the
// labels: nothing downstream decodes them again.
//
// A worker node offers the coordinator a labeler through a small actor in
// front of it (spawn_offered_labeler), which answers with the labels alone.

#include "actors/actors.hpp"

#include "common/image_header.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/teacher.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <opencv2/imgcodecs.hpp>

namespace recl {

namespace {

/// Frames larger than this many pixels are refused (decompression bombs).
constexpr int64_t max_frame_pixels = 8192ll * 8192ll;

struct labeler_state {
  static inline const char* name = "labeler";
  uint64_t frames = 0; ///< frames labelled since start
};

labeler_actor::behavior_type
labeler(labeler_actor::stateful_pointer<labeler_state> self,
        std::shared_ptr<teacher> model_holder) {
  // The teacher is built before spawning, so a bad model fails the start-up
  // instead of the first window.
  return {
    [=](label_atom, window& w) -> caf::result<labelled_window> {
      labelled_window out;
      out.queue_ms = now_ms() - w.arrived_ms;
      out.labels.reserve(w.frames.size());
      auto images = std::make_shared<std::vector<image>>();
      for (size_t i = 0; i < w.frames.size(); ++i) {
        auto& f = w.frames[i];
        auto where = "camera " + w.camera + ", window "
                     + std::to_string(w.index) + ", frame " + std::to_string(i);
        // The header's size is checked before decoding allocates it.
        auto head = read_image_header(f.bytes.data(), f.bytes.size());
        if (!head)
          return caf::make_error(ec::bad_frame,
                                 where + ": not a decodable image ("
                                   + std::to_string(f.bytes.size())
                                   + " bytes; JPEG or PNG expected)");
        if (head->width * head->height > max_frame_pixels)
          return caf::make_error(
            ec::limit_exceeded,
            where + ": its " + head->format + " header says "
              + std::to_string(head->width) + "x" + std::to_string(head->height)
              + ", more than " + std::to_string(max_frame_pixels)
              + " pixels; nothing was decoded");
        auto t0 = now_ms();
        cv::Mat img;
        try {
          if (!f.bytes.empty())
            img = cv::imdecode(cv::Mat(1, static_cast<int>(f.bytes.size()),
                                       CV_8UC1, f.bytes.data()),
                               cv::IMREAD_COLOR);
        } catch (const cv::Exception&) {
          img = cv::Mat{};
        }
        auto t1 = now_ms();
        out.decode_ms += t1 - t0;
        if (img.empty())
          return caf::make_error(
            ec::bad_frame, where + ": not a decodable image ("
                             + std::to_string(f.bytes.size()) + " bytes)");
        if (static_cast<int64_t>(img.cols) * img.rows > max_frame_pixels)
          return caf::make_error(
            ec::limit_exceeded, where + ": " + std::to_string(img.cols) + "x"
                                  + std::to_string(img.rows) + " is too large");
        frame_labels fl;
        fl.width = img.cols;
        fl.height = img.rows;
        try {
          fl.boxes = model_holder->detect(img);
        } catch (const std::exception& e) {
          return caf::make_error(ec::model,
                                 where + ": teacher failed: " + e.what());
        }
        out.teacher_ms += now_ms() - t1;
        out.labels.push_back(std::move(fl));
        images->push_back(to_image(img));
      }
      out.images = std::move(images);
      self->state.frames += w.frames.size();
      log::debug("labeler", "camera ", w.camera, " window ", w.index, ": ",
                 w.frames.size(), " frames in ", out.teacher_ms, " ms");
      out.source = std::move(w);
      return out;
    },
  };
}

} // namespace

labeler_actor spawn_labeler(caf::actor_system& sys,
                            const teacher_options& opts) {
  return spawn_labeler(sys, make_teacher(opts)); // throws on failure
}

labeler_actor spawn_labeler(caf::actor_system& sys,
                            std::shared_ptr<teacher> model) {
  return sys.spawn<caf::detached>(labeler, std::move(model));
}

labeler_actor spawn_offered_labeler(caf::actor_system& sys,
                                    labeler_actor inner) {
  return sys.spawn(
    [inner](labeler_actor::pointer self) -> labeler_actor::behavior_type {
      self->link_to(inner);
      return {
        [=](label_atom, window& w) -> caf::result<labelled_window> {
          // The coordinator's clock is another machine's: the wait here is
          // counted from now, on this one.
          w.arrived_ms = now_ms();
          auto rp = self->make_response_promise<labelled_window>();
          self->request(inner, caf::infinite, label_atom_v, std::move(w))
            .then(
              [=](labelled_window& lw) mutable {
                // The coordinator still holds the frames (about 1 MB).
                lw.source.frames.clear();
                rp.deliver(std::move(lw));
              },
              [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
          return rp;
        },
      };
    });
}

} // namespace recl
