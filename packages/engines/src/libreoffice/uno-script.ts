// The UNO script run by LibreOffice's Python when a document needs its password; kept as a
// string so that it travels with the code wherever it is bundled, and written into the work dir.
export const UNO_CONVERT_SCRIPT = String.raw`# One conversion over UNO, for what soffice's command line cannot do: opening a document with a
# password. Run with LibreOffice's own Python (/usr/bin/python3 on Debian, which has the uno module).
# The job arrives as JSON on stdin so that the password never shows in a process list.
# Exit codes: 0 done, 3 wrong password, 4 load failed, 5 store failed, 10 soffice did not start.
import json
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def main():
    job = json.loads(sys.stdin.read())
    connect = "pipe,name=%s;urp;StarOffice.ComponentContext" % job["pipe"]
    soffice = subprocess.Popen(
        [
            job["soffice"],
            "-env:UserInstallation=" + job["profile"],
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--accept=" + connect,
        ]
    )
    desktop = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        give_up = time.time() + job["startSec"]
        while True:
            try:
                ctx = resolver.resolve("uno:" + connect)
                break
            except Exception:
                if time.time() > give_up or soffice.poll() is not None:
                    return 10
                time.sleep(0.1)

        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        load = [prop("Hidden", True), prop("ReadOnly", True), prop("Password", job["password"])]
        if job.get("importFilter"):
            name, _, options = job["importFilter"].partition(":")
            load += [prop("FilterName", name), prop("FilterOptions", options)]
        try:
            doc = desktop.loadComponentFromURL(job["input"], "_blank", 0, tuple(load))
        except Exception as err:
            # A wrong password surfaces as a failed load; say which, the caller knows it was encrypted.
            sys.stderr.write("load failed: %s\n" % type(err).__name__)
            return 3
        if doc is None:
            return 3

        store = [prop("FilterName", job["filter"])]
        if job.get("filterData"):
            data = tuple(prop(k, v) for k, v in job["filterData"].items())
            store.append(prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", data)))
        if job.get("filterOptions"):
            store.append(prop("FilterOptions", job["filterOptions"]))
        try:
            uno.invoke(doc, "storeToURL", (job["output"], tuple(store)))
        except Exception as err:
            sys.stderr.write("store failed: %s\n" % type(err).__name__)
            return 5
        finally:
            try:
                doc.close(True)
            except Exception:
                pass
        return 0
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:
                pass
        try:
            soffice.wait(timeout=10)
        except Exception:
            soffice.kill()


sys.exit(main())
`;
