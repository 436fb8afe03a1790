/** A module that may not be installed (optional test dependencies): null when it is absent. */
export async function optionalImport(name: string): Promise<any> {
  try {
    return await import(name);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw e;
  }
}
