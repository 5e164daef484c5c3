// The module's one exported entry point (see plugin.h).
#include "inference/plugin.h"

extern "C" __attribute__((visibility("default"))) const vectorize::inference::PluginApi*
vz_inference_plugin() {
  static const vectorize::inference::PluginApi api = {
      vectorize::inference::kPluginAbiVersion,
      &vectorize::inference::LoadTorchEncoder,
  };
  return &api;
}
