#pragma once
// The one place where the C++ messages (schema/messages.hpp) meet their
// Cap'n Proto form (schema/recl.capnp): `write` fills a builder, `read`
// fills a struct from a reader. The gateway (server side) and the client
// (edge side) both use these, so a field added to the protocol is added
// here once.

#include "schema/messages.hpp"
#include "schema/recl.capnp.h"

#include <string>
#include <vector>

namespace recl::wire {

void write(const frame_labels& x, rpc::FrameLabels::Builder out);
void read(rpc::FrameLabels::Reader in, frame_labels& x);

/// The edge writes a whole window; the gateway reads its frames one at a
/// time, checking each against its limits first.
void write(const window& x, rpc::Window::Builder out);
/// Everything but the frames (and the camera, which the session knows);
/// throws std::invalid_argument for an update form this side does not know.
void read_header(rpc::Window::Reader in, window& x);
void read(rpc::Frame::Reader in, frame& x);

void write(const decision& x, rpc::Decision::Builder out);
void read(rpc::Decision::Reader in, decision& x);

void write(const std::vector<streamed_step>& xs,
           capnp::List<rpc::StreamedModel>::Builder out);
void read(capnp::List<rpc::StreamedModel>::Reader in,
          std::vector<streamed_step>& xs);

void write(const edge_stats& x, rpc::EdgeStats::Builder out);
void read(rpc::EdgeStats::Reader in, edge_stats& x);

void write(const server_limits& x, rpc::Limits::Builder out);
void read(rpc::Limits::Reader in, server_limits& x);

void write(const std::vector<expert_info>& xs,
           capnp::List<rpc::ExpertInfo>::Builder out);
void read(capnp::List<rpc::ExpertInfo>::Reader in,
          std::vector<expert_info>& xs);

void write(const std::vector<credential_info>& xs,
           capnp::List<rpc::CredentialInfo>::Builder out);
void read(capnp::List<rpc::CredentialInfo>::Reader in,
          std::vector<credential_info>& xs);

void write(const scheduler_report& x, rpc::SchedulerReport::Builder out);
void read(rpc::SchedulerReport::Reader in, scheduler_report& x);

void write(const status_info& x, rpc::Status::Builder out);
void read(rpc::Status::Reader in, status_info& x);

/// Reads a whole struct: `auto d = wire::get<decision>(reader);`.
template <class T, class Reader>
T get(Reader in) {
  T x;
  read(in, x);
  return x;
}

} // namespace recl::wire
