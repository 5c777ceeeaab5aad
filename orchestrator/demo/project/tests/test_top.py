import unittest

from textstats.words import top_words


class TopWordsTest(unittest.TestCase):
    def test_most_frequent_first_case_insensitive(self):
        text = "The cat and the hat. THE end, the cat!"
        self.assertEqual(top_words(text, 2), [("the", 4), ("cat", 2)])

    def test_ties_break_alphabetically(self):
        self.assertEqual(top_words("b a c", 2), [("a", 1), ("b", 1)])


if __name__ == "__main__":
    unittest.main()
