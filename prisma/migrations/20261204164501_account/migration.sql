-- AlterTable
ALTER TABLE "users" ALTER COLUMN "credits" SET DEFAULT 1000000;

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "sandbox" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "sandbox_files" (
    "user_id" INTEGER NOT NULL,
    "md5" TEXT NOT NULL,
    "filename" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sandbox_files_pkey" PRIMARY KEY ("user_id","md5")
);

-- CreateTable
CREATE TABLE "usage_days" (
    "user_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "operation" TEXT NOT NULL,
    "sandbox" BOOLEAN NOT NULL,
    "tasks" INTEGER NOT NULL,
    "credits" BIGINT NOT NULL,
    "engine_ms" BIGINT NOT NULL,

    CONSTRAINT "usage_days_pkey" PRIMARY KEY ("user_id","day","operation","sandbox")
);

-- AddForeignKey
ALTER TABLE "sandbox_files" ADD CONSTRAINT "sandbox_files_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_days" ADD CONSTRAINT "usage_days_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Data: tasks of sandbox jobs are sandbox tasks; users created before credits were charged (their
-- balance was never used, and 0 would now refuse every job) get the default balance.
UPDATE "tasks" SET "sandbox" = true FROM "jobs" WHERE "jobs"."id" = "tasks"."job_id" AND "jobs"."sandbox";
UPDATE "users" SET "credits" = 1000000 WHERE "credits" = 0;
