-- CreateIndex
CREATE INDEX "task_files_storage_key_idx" ON "task_files"("storage_key");
