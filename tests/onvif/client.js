// Drives cordon with the npm `onvif` package (a third-party Profile S client).
//   node client.js discover TIMEOUT_MS            -> JSON list of {urn, hostname, port}
//   node client.js device HOST PORT USER PASS     -> JSON {info, profiles: [...]} or {error}
'use strict';
const onvif = require('onvif');

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(what, err) { out({ error: what + ': ' + (err && err.message ? err.message : String(err)) }); process.exit(0); }

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'discover') {
  // resolve: false hands back the ProbeMatch as the client parsed it.
  onvif.Discovery.probe({ timeout: Number(args[0] || 3000), resolve: false }, (err, matches) => {
    out((matches || []).map(m => {
      const pm = m.probeMatches.probeMatch;
      return { urn: pm.endpointReference.address, xaddrs: pm.XAddrs, types: pm.types };
    }));
  });
} else if (cmd === 'device') {
  const [hostname, port, username, password] = args;
  const cam = new onvif.Cam({ hostname, port: Number(port), username, password, autoconnect: false, timeout: 10000 });
  cam.on('warning', () => {});
  cam.connect(err => {
    if (err) return fail('connect', err);
    cam.getDeviceInformation((err, info) => {
      if (err) return fail('GetDeviceInformation', err);
      const profiles = [];
      const next = i => {
        if (i >= (cam.profiles || []).length) return out({ info, sources: (cam.videoSources || []).length, profiles });
        const p = cam.profiles[i];
        const enc = p.videoEncoderConfiguration;
        cam.getStreamUri({ protocol: 'RTSP', profileToken: p.$.token }, (err, stream) => {
          if (err) return fail('GetStreamUri', err);
          cam.getSnapshotUri({ profileToken: p.$.token }, (err, snap) => {
            if (err) return fail('GetSnapshotUri', err);
            profiles.push({
              token: p.$.token, name: p.name, encoding: enc.encoding,
              width: enc.resolution.width, height: enc.resolution.height,
              fps: enc.rateControl.frameRateLimit, bitrate: enc.rateControl.bitrateLimit,
              gov: enc.H264 ? enc.H264.govLength : null, uri: stream.uri, snapshot: snap.uri,
            });
            next(i + 1);
          });
        });
      };
      next(0);
    });
  });
} else {
  fail('usage', 'discover | device HOST PORT USER PASS');
}
