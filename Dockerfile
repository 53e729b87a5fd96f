# statsvc for production: a non-root image, settings from the environment, Redis beside it
# (see docker-compose.yml). Build: docker build -t statsvc .
FROM python:3.12-slim AS build
WORKDIR /src
RUN python -m venv /opt/statsvc
COPY pyproject.toml README.md LICENSE ./
COPY statsvc ./statsvc
COPY widget ./widget
RUN /opt/statsvc/bin/pip install --no-cache-dir .

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/statsvc --create-home statsvc
COPY --from=build /opt/statsvc /opt/statsvc
ENV PATH=/opt/statsvc/bin:$PATH \
    STATSVC_HOST=0.0.0.0 \
    STATSVC_PORT=8080 \
    STATSVC_WORKERS=auto \
    STATSVC_DATA_DIR=/var/lib/statsvc
USER statsvc
WORKDIR /var/lib/statsvc
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
CMD ["statsvc", "serve"]
