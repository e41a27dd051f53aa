FROM python:3.11-slim
WORKDIR /srv/tradegraph
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds
COPY schema ./schema
RUN pip install --no-cache-dir .
# The package is installed non-editable; keep the project files beside it for seeds and migrations.
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["tradegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
