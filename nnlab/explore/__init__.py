"""explore.py's page: one self-contained HTML file to design (Part 2) and step through
(Part 3) the course's networks in a browser, built from check.csv, plot/ and net/."""
