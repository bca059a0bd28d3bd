// The UNO helper of the warm LibreOffice pool, run by LibreOffice's own Python; kept as a string
// so that it travels with the code wherever it is bundled, and written next to the profiles.
//
// Protocol, one JSON object a line. The first line on stdin is `{"pipe", "startSec"}`: the helper
// connects to the soffice that listens on that pipe and answers `{"ready": true}` (or exits 10).
// Then each line is a conversion, `{"input", "output", "filter", "filterOptions"?, "filterData"?,
// "importFilter"?, "password"?, "frameless"?, "acceptChanges"?}` with file URLs (`frameless`: the document service to
// load into without a frame), answered by `{"ok": true}` or
// `{"ok": false, "stage": "load" | "store" | "bridge", "error": "<exception class>"}`;
// `{"terminate": true}` asks soffice to quit. Passwords travel on stdin, never in a process list.
export const UNO_HELPER_SCRIPT = String.raw`import json
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

# Documents are untrusted: no macros, no updates of linked content from elsewhere.
NEVER_EXECUTE = 0
NO_UPDATE = 0


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def connect(pipe, start_sec):
    url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    give_up = time.time() + start_sec
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx
        except Exception:
            if time.time() > give_up:
                return None
            time.sleep(0.05)


def bridge_alive(desktop):
    # After a failed call: is soffice still there, or did it crash or get killed?
    try:
        desktop.getCurrentComponent()
        return True
    except Exception:
        return False


def load_frameless(ctx, job, load):
    # HTML opens in Writer/Web, whose toolbars need UI files the headless packages lack: with a
    # frame, a long-running soffice aborts on them. A model without a frame or view has no UI.
    doc = ctx.ServiceManager.createInstanceWithContext(job["frameless"], ctx)
    doc.load(tuple(load + [prop("URL", job["input"])]))
    return doc


def accept_changes(ctx, doc):
    # The document as it reads with its tracked changes accepted, without revision marks.
    try:
        helper = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        frame = doc.getCurrentController().getFrame()
        helper.executeDispatch(frame, ".uno:AcceptAllTrackedChanges", "", 0, ())
    except Exception:
        pass


def convert(ctx, desktop, job):
    load = [
        prop("Hidden", True),
        # Accepting tracked changes edits the document (in memory; it is never stored back).
        prop("ReadOnly", not job.get("acceptChanges")),
        prop("MacroExecutionMode", NEVER_EXECUTE),
        prop("UpdateDocMode", NO_UPDATE),
    ]
    if job.get("password"):
        load.append(prop("Password", job["password"]))
    if job.get("importFilter"):
        name, _, options = job["importFilter"].partition(":")
        load += [prop("FilterName", name), prop("FilterOptions", options)]
    try:
        if job.get("frameless"):
            doc = load_frameless(ctx, job, load)
        else:
            doc = desktop.loadComponentFromURL(job["input"], "_blank", 0, tuple(load))
    except Exception as err:
        stage = "load" if bridge_alive(desktop) else "bridge"
        return {"ok": False, "stage": stage, "error": type(err).__name__}
    if doc is None:
        return {"ok": False, "stage": "load", "error": "None"}
    if job.get("acceptChanges"):
        accept_changes(ctx, doc)

    store = [prop("FilterName", job["filter"]), prop("Overwrite", True)]
    if job.get("filterData"):
        data = tuple(prop(k, v) for k, v in job["filterData"].items())
        store.append(prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", data)))
    if job.get("filterOptions"):
        store.append(prop("FilterOptions", job["filterOptions"]))
    try:
        uno.invoke(doc, "storeToURL", (job["output"], tuple(store)))
    except Exception as err:
        stage = "store" if bridge_alive(desktop) else "bridge"
        return {"ok": False, "stage": stage, "error": type(err).__name__}
    finally:
        try:
            doc.close(True)
        except Exception:
            try:
                doc.dispose()
            except Exception:
                pass
    return {"ok": True}


def main():
    setup = json.loads(sys.stdin.readline())
    ctx = connect(setup["pipe"], setup["startSec"])
    if ctx is None:
        return 10
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    reply({"ready": True})
    while True:
        line = sys.stdin.readline()
        # End of input: the worker is gone (even if it was killed); soffice goes with it.
        job = json.loads(line) if line else {"terminate": True}
        if job.get("terminate"):
            try:
                desktop.terminate()
            except Exception:
                pass
            if line:
                reply({"ok": True})
            return 0
        try:
            reply(convert(ctx, desktop, job))
        except Exception as err:
            reply({"ok": False, "stage": "bridge", "error": type(err).__name__})


sys.exit(main())
`;
