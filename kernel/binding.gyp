{
  "targets": [
    {
      "target_name": "rtpengine_fastpath",
      "sources": [ "src/engine.cc", "src/engine-control.cc", "src/addon.cc", "src/dtls.cc", "src/srtp.cc", "src/srtp-addon.cc", "src/jsio.cc", "src/ngio.cc" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE" ],
      "cflags!": [ "-fno-exceptions", "-O3" ],
      "cflags_cc!": [ "-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20" ],
      "cflags": [ "-O2", "-pthread" ],
      "cflags_cc": [ "-std=c++17", "-O2", "-fexceptions" ],
      "ldflags": [ "-pthread" ]
    }
  ]
}
