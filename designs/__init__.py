"""What is designed: design spaces with canonical encodings and content hashes, STL export.

No solver and no learning here; ``fem`` and ``engine`` build on these classes.
"""
