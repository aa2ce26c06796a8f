# RNN Gradient Flow Lab: the Streamlit page on CPU torch, as a non-root user, with the repo's .streamlit/config.toml.
#   docker build -t rnnlab:0.1.0 .
#   docker run -p 8501:8501 -e RNNLAB_PUBLIC=1 -e STREAMLIT_SERVER_ALLOWED_HOSTS="localhost 127.0.0.1" rnnlab:0.1.0
# Settings (README, "Hosting"): RNNLAB_PUBLIC, RNNLAB_MAX_JOBS, RNNLAB_JOBS_MB, RNNLAB_RUN_BUDGET_S, RNNLAB_CACHE_MB,
# RNNLAB_MAX_*, STREAMLIT_SERVER_ALLOWED_HOSTS (the names visitors use).
FROM python:3.11-slim

# Threads: the launcher (CMD below) applies the engine's thread rule (engine/threads.py: one BLAS/OpenMP thread unless
# OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or MKL_NUM_THREADS is set): give one with `docker run -e` to choose otherwise.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MALLOC_ARENA_MAX=2

WORKDIR /app

# The CPU build of torch from PyTorch's own index (PyPI's default wheel brings CUDA, several GB), then the rest.
COPY requirements.txt .
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir -r requirements.txt

RUN groupadd --gid 10001 rnnlab && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin rnnlab
COPY --chown=10001:10001 app.py ./
COPY --chown=10001:10001 .streamlit ./.streamlit
COPY --chown=10001:10001 engine ./engine
COPY --chown=10001:10001 ui ./ui
COPY --chown=10001:10001 viz ./viz
# plotly.js's cartesian bundle at exactly plotly.py's plotly.js version, its sha512 checked against the pin in
# deploy/fetch_plotly.py: no pin, no network or another hash fails the build (the image never serves an unchecked script).
COPY deploy/fetch_plotly.py /tmp/fetch_plotly.py
RUN python /tmp/fetch_plotly.py static && chown -R 10001:10001 static && rm /tmp/fetch_plotly.py
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u, sys; sys.exit(u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]

# ui.serving.serve: `streamlit run` with the page's server guards (no Origin stall, security headers, two malloc arenas).
CMD ["python", "-m", "ui.serving.serve", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
