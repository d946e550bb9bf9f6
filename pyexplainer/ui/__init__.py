"""The page's DOM: view models (pyexplainer.views) drawn as HTML, SVG and canvas. Pyodide only."""
