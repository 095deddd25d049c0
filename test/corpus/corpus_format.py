"""The lit test format of test/corpus (see lit.local.cfg); a module of its
own so that lit's worker processes can unpickle it."""
import os
import subprocess
import tempfile

import lit.formats
import lit.Test


class BadModelFormat(lit.formats.TestFormat):
    def __init__(self, nncc, expected):
        self.nncc = nncc
        self.expected = expected

    def getTestsInDirectory(self, testSuite, path_in_suite, litConfig, localConfig):
        directory = testSuite.getSourcePath(path_in_suite)
        if os.path.basename(directory) != "bad":
            return
        for name in sorted(os.listdir(directory)):
            yield lit.Test.Test(testSuite, path_in_suite + (name,), localConfig)

    def execute(self, test, litConfig):
        path = test.getSourcePath()
        name = os.path.basename(path)
        expect = self.expected.get(name)
        if expect is None:
            return lit.Test.FAIL, "%s is not in expected.txt" % name
        with tempfile.TemporaryDirectory() as out:
            try:
                result = subprocess.run(
                    [self.nncc, path, "-o", os.path.join(out, "model.so")],
                    capture_output=True, text=True, timeout=60)
            except subprocess.TimeoutExpired:
                return lit.Test.FAIL, "nncc did not finish in 60 s"
            left = os.listdir(out)
        lines = result.stderr.strip().splitlines()
        problems = []
        if result.returncode != 1:
            problems.append("exit status %d, expected 1" % result.returncode)
        if len(lines) != 1:
            problems.append("%d diagnostic lines, expected 1" % len(lines))
        elif name not in lines[0] or "error:" not in lines[0] or expect not in lines[0]:
            problems.append("the diagnostic does not name the file or say '%s'" % expect)
        if left:
            problems.append("output files left behind: %s" % ", ".join(left))
        if problems:
            return lit.Test.FAIL, "\n".join(problems) + "\n" + result.stderr
        return lit.Test.PASS, lines[0]
