-- CreateTable
CREATE TABLE "signing_keys" (
    "id" UUID NOT NULL,
    "user_id" INTEGER NOT NULL,
    "secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signed_url_jobs" (
    "job_id" UUID NOT NULL,
    "signing_key_id" UUID NOT NULL,
    "cache_key" TEXT,
    "job_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signed_url_jobs_pkey" PRIMARY KEY ("job_id")
);

-- CreateIndex
CREATE INDEX "signing_keys_user_id_idx" ON "signing_keys"("user_id");

-- CreateIndex
CREATE INDEX "signed_url_jobs_signing_key_id_cache_key_job_hash_created_a_idx" ON "signed_url_jobs"("signing_key_id", "cache_key", "job_hash", "created_at");

-- AddForeignKey
ALTER TABLE "signing_keys" ADD CONSTRAINT "signing_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signed_url_jobs" ADD CONSTRAINT "signed_url_jobs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signed_url_jobs" ADD CONSTRAINT "signed_url_jobs_signing_key_id_fkey" FOREIGN KEY ("signing_key_id") REFERENCES "signing_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
