// Decoding of the APDU trace of an SMS-PP download session, for the event
// log: what each command and response says, SIM Toolkit proactive commands
// and terminal responses by name (ETSI TS 102 223 §8, §9). The server has
// already masked PINs (X).

const cmdTypes = {
  0x01: 'REFRESH', 0x02: 'MORE TIME', 0x03: 'POLL INTERVAL', 0x04: 'POLLING OFF', 0x05: 'SET UP EVENT LIST',
  0x10: 'SET UP CALL', 0x11: 'SEND SS', 0x12: 'SEND USSD', 0x13: 'SEND SHORT MESSAGE', 0x14: 'SEND DTMF',
  0x15: 'LAUNCH BROWSER', 0x20: 'PLAY TONE', 0x21: 'DISPLAY TEXT', 0x22: 'GET INKEY', 0x23: 'GET INPUT',
  0x24: 'SELECT ITEM', 0x25: 'SET UP MENU', 0x26: 'PROVIDE LOCAL INFORMATION', 0x27: 'TIMER MANAGEMENT',
  0x28: 'SET UP IDLE MODE TEXT',
};

const results = {
  0x00: 'performed successfully', 0x01: 'performed with partial comprehension', 0x02: 'performed with missing information',
  0x04: 'performed, icon not displayed', 0x10: 'proactive session terminated by the user', 0x11: 'backward move requested by the user',
  0x12: 'no response from the user', 0x13: 'help information required by the user', 0x20: 'terminal currently unable to process the command',
  0x21: 'network currently unable to process the command', 0x22: 'user did not accept the proactive command',
  0x30: 'command beyond the terminal\'s capabilities', 0x31: 'command type not understood', 0x32: 'command data not understood',
  0x35: 'SMS RP-ERROR',
};

export function bytes(hex) {
  const out = [];
  for (let i = 0; i + 1 < (hex || '').length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

const hexOf = (b) => b.map((x) => x.toString(16).padStart(2, '0')).join('');

// readLen reads a BER length at b[i]: [length, bytes used].
function readLen(b, i) {
  if (b[i] === 0x81) return [b[i + 1], 2];
  if (b[i] === 0x82) return [(b[i + 1] << 8) | b[i + 2], 3];
  return [b[i], 1];
}

// ctlvs splits COMPREHENSION-TLV objects (one-byte tags, the CR bit
// dropped) into a map of tag → [values].
export function ctlvs(b) {
  const out = new Map();
  let i = 0;
  while (i + 1 < b.length) {
    const tag = b[i] & 0x7f;
    const [n, used] = readLen(b, i + 1);
    const v = b.slice(i + 1 + used, i + 1 + used + n);
    if (!out.has(tag)) out.set(tag, []);
    out.get(tag).push(v);
    i += 1 + used + n;
  }
  return out;
}

const gsm = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

// text decodes a text string object (DCS, then the text): GSM 7-bit
// packed (00), 8-bit (04), UCS2 (08).
export function text(v) {
  if (!v || !v.length) return '';
  const dcs = v[0] & 0x0c;
  const d = v.slice(1);
  if (dcs === 0x08) {
    let s = '';
    for (let i = 0; i + 1 < d.length; i += 2) s += String.fromCharCode((d[i] << 8) | d[i + 1]);
    return s;
  }
  if (dcs === 0x00 && (v[0] & 0xf0) === 0) {
    let s = '';
    let bits = 0; let acc = 0;
    for (const x of d) {
      acc |= x << bits; bits += 8;
      while (bits >= 7) { s += gsm[acc & 0x7f] || '?'; acc >>= 7; bits -= 7; }
    }
    return s;
  }
  return d.map((c) => (c >= 0x20 && c < 0x7f) || c === 10 ? String.fromCharCode(c) : (c < 128 ? gsm[c] : '?')).join('');
}

function alpha(v) {
  if (!v || !v.length) return '';
  if (v[0] === 0x80) return text([0x08, ...v.slice(1)]);
  return v.map((c) => (c < 128 ? gsm[c] : '?')).join('');
}

// proactive describes a proactive command (D0 …).
export function proactive(b) {
  if (b[0] !== 0xd0) return '';
  const [n, used] = readLen(b, 1);
  const t = ctlvs(b.slice(1 + used, 1 + used + n));
  const det = (t.get(0x01) || [])[0];
  if (!det) return 'proactive command';
  const name = cmdTypes[det[1]] || `command type ${det[1].toString(16)}`;
  const parts = [name];
  const txt = (t.get(0x0d) || [])[0];
  if (txt) parts.push(JSON.stringify(text(txt)));
  const al = (t.get(0x05) || [])[0];
  if (al) parts.push(JSON.stringify(alpha(al)));
  if (det[1] === 0x23) {
    const len = (t.get(0x11) || [])[0];
    if (len) parts.push(`${len[0]}..${len[1]} ${det[2] & 0x01 ? 'characters' : 'digits'}${det[2] & 0x04 ? ', hidden' : ''}`);
  }
  if (det[1] === 0x24) parts.push(`${(t.get(0x0f) || []).length} items`);
  if (det[1] === 0x21) parts.push(det[2] & 0x80 ? 'waits for the user' : 'clears after a delay');
  const dur = (t.get(0x04) || [])[0];
  if (dur) parts.push(`timeout ${dur[1]}${['min', 's', '×0.1s'][dur[0]] || ''}`);
  return parts.join(' · ');
}

// terminalResponse describes a TERMINAL RESPONSE's data.
export function terminalResponse(b) {
  const t = ctlvs(b);
  const det = (t.get(0x01) || [])[0];
  const res = (t.get(0x03) || [])[0];
  const parts = [];
  if (det) parts.push('to ' + (cmdTypes[det[1]] || det[1].toString(16)));
  if (res) parts.push(`result ${res[0].toString(16).padStart(2, '0')} ${results[res[0]] || ''}`.trim());
  const txt = (t.get(0x0d) || [])[0];
  if (txt) parts.push('text ' + JSON.stringify(text(txt)));
  const item = (t.get(0x10) || [])[0];
  if (item) parts.push('item ' + item[0]);
  return parts.join(' · ');
}

// describe explains one command/response pair of the trace.
export function describe(a) {
  const c = bytes(a.c);
  const r = bytes(a.r);
  const data = c.length > 5 ? c.slice(5, 5 + c[4]) : [];
  const rdata = r.slice(0, -2);
  switch (c[1]) {
    case 0xc2:
      if (data[0] === 0xd1) return 'ENVELOPE (SMS-PP download)';
      return 'ENVELOPE';
    case 0x12:
      return 'FETCH → ' + (proactive(rdata) || 'nothing');
    case 0x14:
      return 'TERMINAL RESPONSE ' + terminalResponse(data);
    case 0x10:
      return 'TERMINAL PROFILE';
    case 0xc0:
      return 'GET RESPONSE' + (rdata.length ? ` (${rdata.length} bytes${rdata[0] === 0x02 && rdata[1] === 0x71 ? ': PoR, response packet' : ''})` : '');
  }
  return a.command || hexOf(c.slice(0, 4));
}
