"""Reads a pcap of UDP packets and reports how many RTP payloads start like a
plaintext H.264 RTP payload (NAL header with forbidden bit 0 and a type of
1, 5, 6, 7, 8, 9, 24 or 28 — the slice/SEI/SPS/PPS/AUD/STAP-A/FU-A seen in cordon's
stream). SRTP-encrypted payloads look random: about 1 in 8 match by chance.

rtppayload.py FILE -> prints "packets matching fraction"
"""
import struct
import sys

PLAIN_TYPES = {1, 5, 6, 7, 8, 9, 24, 28}
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
off, total, plain = 24, 0, 0
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if linktype == 1:       # Ethernet
        eth_type = struct.unpack("!H", pkt[12:14])[0]
        pkt = pkt[14:]
    elif linktype == 113:   # Linux cooked
        eth_type = struct.unpack("!H", pkt[14:16])[0]
        pkt = pkt[16:]
    else:
        continue
    if eth_type == 0x0800:
        ihl = (pkt[0] & 15) * 4
        if pkt[9] != 17:
            continue
        udp = pkt[ihl:]
    elif eth_type == 0x86DD:
        if pkt[6] != 17:
            continue
        udp = pkt[40:]
    else:
        continue
    rtp = udp[8:]
    if len(rtp) < 14 or rtp[0] >> 6 != 2 or rtp[1] & 0x7F != 96:   # RTP v2, cordon's payload type
        continue
    cc = rtp[0] & 15
    payload = rtp[12 + 4 * cc:]
    if not payload:
        continue
    total += 1
    if payload[0] & 0x80 == 0 and payload[0] & 0x1F in PLAIN_TYPES:
        plain += 1
print(total, plain, f"{(plain / total if total else 0):.3f}")
