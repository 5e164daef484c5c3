#!/usr/bin/env python3
"""Writes generated/questions.xls: a small, valid BIFF8 workbook in a Compound File (CFB) container,
built by hand with the standard library (FreeXL only reads XLS; no Debian package we use writes it).

Layout ([MS-XLS], [MS-CFB]):
  Workbook globals: BOF, CODEPAGE (1200), FONT, 16 style XFs + 1 cell XF, two BOUNDSHEET8, SST, EOF.
  Sheet "Fragen": DIMENSIONS; header question/positive/negative; 200 rows of LABELSST text (one
    with umlauts stored as UTF-16, one formula-like "=SUM(1+1)") and NUMBER negatives (i * 1.5).
  Sheet "Zweites": header query/answer and two rows (for sheet_index = 1).
The Workbook stream is > 4096 bytes, so it lives in regular sectors (no mini stream).
Run: python3 tests/testdata/datasets/make_xls.py  (deterministic; the output is committed).
"""
import os
import struct

def rec(rtype, data):
    return struct.pack('<HH', rtype, len(data)) + data

def bof(dt):
    return rec(0x0809, struct.pack('<HHHHII', 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x06))

def xl_unicode(s):  # XLUnicodeString: cch(2) flags(1) chars
    if all(ord(c) < 256 for c in s) and all(ord(c) < 128 for c in s):
        return struct.pack('<HB', len(s), 0) + s.encode('latin-1')
    return struct.pack('<HB', len(s), 1) + s.encode('utf-16-le')

def short_unicode(s):  # ShortXLUnicodeString: cch(1) flags(1) chars
    return struct.pack('<BB', len(s), 0) + s.encode('latin-1')

sheet1 = [["question", "positive", "negative"]]
for i in range(1, 201):
    q = f"Frage {i}?"
    p = f"Antwort {i}."
    if i == 1:
        q = "Grüße aus Köln – wie geht es?"
    if i == 2:
        p = "=SUM(1+1)"
    sheet1.append([q, p, i * 1.5])
sheet2 = [["query", "answer"], ["Zweite Frage", "Zweite Antwort"], ["Noch eine", "Antwort"]]

strings, index = [], {}
for sheet in (sheet1, sheet2):
    for row in sheet:
        for v in row:
            if isinstance(v, str) and v not in index:
                index[v] = len(strings)
                strings.append(v)
total_refs = sum(1 for s in (sheet1, sheet2) for r in s for v in r if isinstance(v, str))
sst_body = struct.pack('<II', total_refs, len(strings)) + b''.join(xl_unicode(s) for s in strings)
assert len(sst_body) <= 8224, "SST would need CONTINUE records"

def sheet_stream(rows):
    ncols = max(len(r) for r in rows)
    out = bof(0x0010)
    out += rec(0x0200, struct.pack('<IIHHH', 0, len(rows), 0, ncols, 0))
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str):
                out += rec(0x00FD, struct.pack('<HHHI', r, c, 16, index[v]))
            else:
                out += rec(0x0203, struct.pack('<HHHd', r, c, 16, float(v)))
    return out + rec(0x000A, b'')

font = rec(0x0031, struct.pack('<HHHHHBBBB', 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + short_unicode('Arial'))
style_xf = rec(0x00E0, struct.pack('<HHHBBBBIIH', 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0, 0, 0x20C0))
cell_xf = rec(0x00E0, struct.pack('<HHHBBBBIIH', 0, 0, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))
names = ["Fragen", "Zweites"]

def globals_stream(offsets):
    out = bof(0x0005) + rec(0x0042, struct.pack('<H', 1200)) + font
    out += style_xf * 16 + cell_xf
    for name, off in zip(names, offsets):
        out += rec(0x0085, struct.pack('<IBB', off, 0, 0) + short_unicode(name))
    out += rec(0x00FC, sst_body) + rec(0x000A, b'')
    return out

streams = [sheet_stream(sheet1), sheet_stream(sheet2)]
glob_len = len(globals_stream([0, 0]))
offsets = [glob_len, glob_len + len(streams[0])]
workbook = globals_stream(offsets) + streams[0] + streams[1]
assert len(workbook) >= 4096

# ---- Compound File Binary container, version 3, 512-byte sectors ----
SECTOR, ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
n_wb = (len(workbook) + SECTOR - 1) // SECTOR
dir_sector = n_wb
fat_sector = n_wb + 1
n_sectors = n_wb + 2
assert n_sectors <= SECTOR // 4
fat = [FREESECT] * (SECTOR // 4)
for i in range(n_wb):
    fat[i] = i + 1 if i + 1 < n_wb else ENDOFCHAIN
fat[dir_sector] = ENDOFCHAIN
fat[fat_sector] = FATSECT

def dir_entry(name, typ, child, start, size):
    if not name:
        return b'\0' * 64 + struct.pack('<HBBIII', 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b'\0' * 36 + struct.pack('<IQ', 0, 0)
    n = (name + '\0').encode('utf-16-le')
    return (n.ljust(64, b'\0') + struct.pack('<HBBIII', len(n), typ, 1, NOSTREAM, NOSTREAM, child)
            + b'\0' * 16 + b'\0' * 4 + b'\0' * 16 + struct.pack('<IQ', start, size))

directory = (dir_entry('Root Entry', 5, 1, ENDOFCHAIN, 0) + dir_entry('Workbook', 2, NOSTREAM, 0, len(workbook))
             + dir_entry('', 0, 0, 0, 0) * 2)
header = (bytes.fromhex('D0CF11E0A1B11AE1') + b'\0' * 16
          + struct.pack('<HHHHH', 0x003E, 0x0003, 0xFFFE, 9, 6) + b'\0' * 6
          + struct.pack('<IIIIIIIII', 0, 1, dir_sector, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
          + struct.pack('<I', fat_sector) + struct.pack('<I', FREESECT) * 108)
assert len(header) == 512
data = header + workbook.ljust(n_wb * SECTOR, b'\0') + directory + struct.pack('<%dI' % len(fat), *fat)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'generated', 'questions.xls')
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, 'wb') as f:
    f.write(data)
print(out, len(data), 'bytes')
