@0xb4b742f3d45c621e;
# The wire protocol between edge clients, admin tools and recld.
#
# An edge registers its camera with a token and gets a CameraSession
# capability; every model-update window it sends sampled JPEG frames and gets
# a decision back at once. Admin tools get an Admin capability the same way.
#
# Every connection starts with a handshake before any RPC: the client sends
# one Hello message, the server answers one Welcome. Both are read with a
# small size limit, so a peer that has not shown the token can make recld
# allocate only a few KiB; RPC with the large limit (windows of frames)
# starts after a Welcome without error.

$import "/capnp/c++.capnp".namespace("recl::rpc");

interface Recl {
  register @0 (camera :Text, token :Text) -> (session :CameraSession, limits :Limits);
  # Opens a session for a camera. A second register of the same camera
  # closes the first session.
  admin @1 (token :Text) -> (admin :Admin);
}

struct Limits {
  # What the server accepts in one window; larger windows are refused.
  maxFrames @0 :UInt32;
  maxFrameBytes @1 :UInt64;
  maxMessageBytes @2 :UInt64;
}

interface CameraSession {
  update @0 (window :Window) -> (decision :Decision);
  report @1 (stats :EdgeStats);
  close @2 ();
  # The steps of window `window`'s retraining job (recld --stream-models),
  # oldest first: with `wait`, all of them once the job ends; without, those
  # made so far (an edge polls while the job runs). None when the window
  # started no job, it streamed nothing, or the server does not stream.
  # An ended job's steps are kept (the last two windows') only for a session
  # that has called this before; the first call, right after a reply, finds
  # that window's job still running.
  streamed @3 (window :UInt32, wait :Bool) -> (steps :List(StreamedModel));
}

struct StreamedModel {
  at @0 :Float32;         # when it was ready, as a share of the job's budget
  accuracy @1 :Float32;   # on the window's held-out frames
  modelId @2 :Text;       # the job's model (the last step is what it keeps)
  weights @3 :Data;       # the whole model, as Decision.weights
}

struct Frame {
  jpeg @0 :Data;          # JPEG (or PNG) bytes of one sampled frame
  timestampMs @1 :UInt64; # position in the camera's stream
}

struct Window {
  index @0 :UInt32;       # the camera's window counter, from 0
  frames @1 :List(Frame);
  sampleFps @2 :Float32;  # the rate the frames were sampled at
  modelId @3 :Text;       # the model the edge runs now ("" = none)
  modelHash @4 :Text;     # its content hash (schema/model_update.hpp)
  updates @5 :UpdateForm; # how the edge takes a served model

  enum UpdateForm {
    archive @0;   # the whole model as `weights` (clients before deltas)
    delta @1;     # `update`: the tensors that differ, else all of them
    deltaHalf @2; # the same with floating-point tensors as fp16
  }
}

struct Box {
  x0 @0 :Float32;
  y0 @1 :Float32;
  x1 @2 :Float32;
  y1 @3 :Float32;
  score @4 :Float32;
  cls @5 :Int32;          # COCO class index
}

struct FrameLabels {
  width @0 :UInt32;
  height @1 :UInt32;
  boxes @2 :List(Box);
}

struct Timing {
  # Server-side milliseconds for this window.
  queueMs @0 :Float64;    # waiting for a labeler
  decodeMs @1 :Float64;
  teacherMs @2 :Float64;
  selectMs @3 :Float64;
  totalMs @4 :Float64;    # from request arrival to reply
  checkMs @5 :Float64;    # safety check: candidates evaluated
  fetchMs @6 :Float64;    # the served model's weights, from a GPU owner
  linkMs @7 :Float64;     # the frames' trip to a worker node's labeler, and
                          # the labels' back
}

struct Decision {
  window @0 :UInt32;
  action @1 :Action;
  modelId @2 :Text;       # the model to run ("" with keep = keep yours)
  weights @3 :Data;       # present when the edge lacks the model
  labels @4 :List(FrameLabels); # the teacher's labels, one per frame
  nextSampleFps @5 :Float32;    # the rate to sample the next window at
  timing @6 :Timing;
  teacher @7 :Text;
  source @8 :Text;        # zoo, retrained, retrained-elsewhere, generalist, base, kept
  accuracy @9 :Float32;   # the served model on this window's frames (-1 = unknown)
  currentAccuracy @10 :Float32; # the edge's model on them (-1 = unknown)
  zooSize @11 :UInt32;
  candidates @12 :UInt32; # models the safety check evaluated
  # With the server's --selector compare: the accuracy on these frames of
  # the gating network's first choice, ODIN's and the best zoo expert's
  # (-1 = no zoo yet or not comparing).
  selGating @13 :Float32 = -1;
  selOdin @14 :Float32 = -1;
  selOracle @15 :Float32 = -1;
  # False when the server could not record the window (a full disk, an I/O
  # error): labels and model are good, but the camera's record on disk lags
  # and its retraining waits until the store is writable again.
  saved @16 :Bool = true;
  note @17 :Text;         # why, when not saved
  # With Window.updates delta or deltaHalf, the served model as a model
  # update (schema/model_update.hpp) instead of `weights`: applied to the
  # edge's model, it must give the content hash it names.
  update @18 :Data;

  enum Action {
    keep @0;
    swap @1;
  }
}

struct EdgeStats {
  window @0 :UInt32;
  framesSeen @1 :UInt64;
  modelId @2 :Text;
  accuracy @3 :Float32;   # the edge's own estimate, if any (-1 = none)
}

interface Admin {
  status @0 () -> (status :Status);
  zoo @1 () -> (experts :List(ExpertInfo));
  scheduler @2 () -> (report :SchedulerReport);
  prune @3 (id :Text) -> (removed :List(Text));
  # id "" prunes by the eta/q rule; else that expert.

  # Credentials (actors/credentials.hpp). Only the admin role may call
  # these and prune; the viewer role reads.
  addCredential @4 (name :Text, role :Text, cameras :Text) -> (token :Text);
  # role: "camera", "viewer" or "admin"; cameras: for the camera role, a glob
  # of the camera ids it may register ("" = the name). The token
  # ("NAME:SECRET") is shown once; recld keeps only a salted hash.
  revokeCredential @5 (name :Text) -> (revoked :Bool);
  # Also closes the camera sessions opened with it.
  credentials @6 () -> (list :List(CredentialInfo));
}

struct CredentialInfo {
  name @0 :Text;
  role @1 :Text;
  cameras @2 :Text;
  createdUnixMs @3 :Int64;
}

struct ExpertInfo {
  id @0 :Text;
  originCamera @1 :Text;
  originWindow @2 :UInt32;
  admittedUnixMs @3 :Int64;
  weightBytes @4 :UInt64;
  accuracy @5 :Float32;
  chosen @6 :UInt32;      # times served in the last q selections
}

struct Grant {
  at @0 :Float64;
  job @1 :Text;
  profile @2 :Bool;
  accBefore @3 :Float32;
  accAfter @4 :Float32;
  cost @5 :Float64;
  switchMs @6 :Float64;
  device @7 :Text;        # where it ran ("" with one device)
}

struct SchedulerReport {
  policy @0 :Text;
  clock @1 :Text;
  now @2 :Float64;
  jobs @3 :List(Text);
  recent @4 :List(Grant);
  busyS @5 :Float64;
  elapsedS @6 :Float64;
  profiling @7 :Float64;
  training @8 :Float64;
  grants @9 :UInt64;
  selectorS @10 :Float64; # device seconds updating the gating network / ODIN
  queued @11 :UInt32;     # requests waiting in the GPU owner's mailbox
  devices @12 :UInt32 = 1; # GPU owners (--devices); busyS is their sum
  deviceStates @13 :List(DeviceState); # each device, gone ones included
  links @14 :List(LinkTraffic);        # each worker node's store traffic
}

# One device's GPU owner (recl-admin nodes).
struct DeviceState {
  node @0 :Text;   # "" for the coordinator's own
  device @1 :Text;
  link @2 :Text;   # local, up, gone or silent
  jobs @3 :UInt32;
  inFlight @4 :UInt32;
  requests @5 :UInt64;
  grants @6 :UInt64;
  busyS @7 :Float64;
  elapsedS @8 :Float64;
  queued @9 :UInt32;
}

# What crossed between the coordinator's store and one worker node.
struct LinkTraffic {
  node @0 :Text;
  storeRequests @1 :UInt64;
  bytesSent @2 :UInt64;
  bytesReceived @3 :UInt64;
  expertsSent @4 :UInt64;
  expertsMoved @5 :UInt64;
  expertBytes @6 :UInt64;
}

struct Status {
  uptimeS @0 :Float64;
  teacher @1 :Text;
  storeBytes @2 :UInt64;
  dataDir @3 :Text;
  cameras @4 :List(CameraInfo);
  version @5 :Text;
  storeFault @6 :Text;     # why the store refuses writes ("" = writable)
  storeFreeBytes @7 :UInt64; # free on the data directory's filesystem
}

struct CameraInfo {
  id @0 :Text;
  windows @1 :UInt64;       # windows served, over the data dir's life
  lastReplyMs @2 :Float64;  # server time of the last reply
  lastReplyUnixMs @3 :Int64;
  connected @4 :Bool;
  framesLabelled @5 :UInt64;
  modelId @6 :Text;
  lastRetrainedId @7 :Text;
}

struct Hello {
  token @0 :Text;
}

struct Welcome {
  error @0 :Text;  # "" = go on with RPC; else why, and the server hangs up
}
