"""docs/client.md's C++ example, built the way an application developer builds it: libsendcloud
installed into a temporary prefix with `cmake --install`, the example's CMakeLists found through
find_package(sendcloud) (and pkg-config), and the program run against the real server."""

import os
import re
import shutil
import subprocess
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "docs", "client.md")
BUILD_TIMEOUT = 300


def doc_blocks(language):
    with open(DOC) as f:
        text = f.read()
    return re.findall(r"```" + language + r"\n(.*?)```", text, re.S)


class InstalledLibraryTest(harness.ServerTestCase):
    def run_ok(self, cmd, **kw):
        r = subprocess.run(cmd, capture_output=True, timeout=BUILD_TIMEOUT, **kw)
        self.assertEqual(r.returncode, 0, f"{cmd}:\n{r.stdout.decode()}\n{r.stderr.decode()}")
        return r.stdout.decode()

    def test_the_documented_example_builds_against_the_installed_package_and_sends(self):
        build_dir = os.environ.get("SC_BUILD_DIR")
        if not build_dir:
            raise RuntimeError("set SC_BUILD_DIR to the CMake build directory (ctest does)")
        root = harness.make_temp_root("sendcloud-install-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        prefix = os.path.join(root, "prefix")
        self.run_ok(["cmake", "--install", build_dir, "--component", "sendcloud",
                     "--prefix", prefix])
        self.assertTrue(os.path.exists(os.path.join(prefix, "include/sendcloud/sendcloud.h")))

        [code] = doc_blocks("cpp")
        [cmakelists] = doc_blocks("cmake")
        self.assertLessEqual(len(code.strip().splitlines()), 13, "the example grew past ten-ish lines")
        src = os.path.join(root, "example")
        os.makedirs(src)
        with open(os.path.join(src, "hello.cpp"), "w") as f:
            f.write(code)
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write(cmakelists)
        out = os.path.join(root, "example-build")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCACHE")}
        # A sanitized build installs a sanitized library, which only a program built the same
        # way can load (the ASan runtime must come first): build the example as the library was.
        sanitize = []
        with open(os.path.join(build_dir, "CMakeCache.txt")) as cache:
            if any(line.strip() == "SC_SANITIZE:BOOL=ON" for line in cache):
                sanitize = ["-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined",
                            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"]
        self.run_ok(["cmake", "-S", src, "-B", out, "-G", "Ninja",
                     f"-DCMAKE_PREFIX_PATH={prefix}", *sanitize], env=env)
        self.run_ok(["cmake", "--build", out], env=env)

        # pkg-config finds the same installation.
        pc_env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib/pkgconfig") + ":" +
                      os.path.join(prefix, "lib", "x86_64-linux-gnu", "pkgconfig"))
        flags = self.run_ok(["pkg-config", "--cflags", "--libs", "sendcloud"], env=pc_env)
        self.assertIn("-lsendcloud", flags)

        srv = self.start_server()
        creds = harness.provision(srv)
        libdirs = [d for d in (os.path.join(prefix, "lib"),
                               os.path.join(prefix, "lib", "x86_64-linux-gnu")) if os.path.isdir(d)]
        run_env = {k: v for k, v in os.environ.items()
                   if k not in ("EMAIL_API_USER", "EMAIL_API_KEY")}
        run_env.update(EMAIL_API_USER=creds.api_user, EMAIL_API_KEY=creds.api_key,
                       SENDCLOUD_URL=srv.base_url, LD_LIBRARY_PATH=":".join(libdirs))
        r = subprocess.run([os.path.join(out, "hello")], capture_output=True, env=run_env,
                           timeout=harness.COMMAND_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        email_id = r.stdout.decode().strip()
        self.assertTrue(email_id.endswith("$alice@example.com"), email_id)
        self.assertIn(email_id, harness.recipients(srv.db_path()))


if __name__ == "__main__":
    unittest.main()
