import subprocess
import sys
import tempfile
import unittest


class CliTest(unittest.TestCase):
    def test_prints_count_and_top_words(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("to be or not to be")
        out = subprocess.run(
            [sys.executable, "-m", "textstats", f.name, "--top", "2"],
            capture_output=True, text=True, check=True,
        ).stdout
        self.assertIn("words: 6", out)
        self.assertIn("be 2", out)
        self.assertIn("to 2", out)

    def test_missing_file_exits_2_with_message(self):
        proc = subprocess.run(
            [sys.executable, "-m", "textstats", "/nonexistent/file.txt"],
            capture_output=True, text=True,
        )
        self.assertEqual(proc.returncode, 2)
        self.assertIn("cannot read", proc.stderr)


if __name__ == "__main__":
    unittest.main()
