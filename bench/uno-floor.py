#!/usr/bin/python3
# The bench's office floor: one warm LibreOffice listener converts documents to PDF one after
# another over UNO, and each conversion's time is printed as a JSON line. Run with
# LibreOffice's Python (/usr/bin/python3): uno-floor.py PORT OUTDIR FILE...
import json
import os
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

FILTERS = [
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
]


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def connect(port, timeout_s=90):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    deadline = time.time() + timeout_s
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def convert(desktop, src, dest):
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),)
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not load the file")
    try:
        export = next((f for s, f in FILTERS if doc.supportsService(s)), "writer_pdf_Export")
        doc.storeToURL(uno.systemPathToFileUrl(dest), (prop("FilterName", export),))
    finally:
        try:
            doc.close(True)
        except Exception:
            doc.dispose()


def main():
    port, outdir, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    desktop = connect(port)
    # The listener's first document pays for loading the filters: not timed, as in the others.
    convert(desktop, files[0], os.path.join(outdir, "warm.pdf"))
    for src in files:
        started = time.perf_counter()
        error = None
        try:
            convert(desktop, src, os.path.join(outdir, os.path.basename(src) + ".pdf"))
        except Exception as e:
            error = str(e) or type(e).__name__
        ms = (time.perf_counter() - started) * 1000
        print(json.dumps({"file": os.path.basename(src), "ms": ms, "ok": error is None, "error": error}), flush=True)


main()
