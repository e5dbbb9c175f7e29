/**
 * Runs a user's action and says how it went in a toast: the outcome, or the portal's refusal in
 * its own words (the API passes the portal's error code and text through).
 */
import { useToast } from '@bitrix24/b24ui-nuxt/composables/useToast';
import { ref } from 'vue';
import { usePage } from './context.ts';
import { ApiError } from './frame.ts';

export function useActions() {
  const toast = useToast();
  const { t } = usePage();
  const busy = ref<string | null>(null);
  const refusal = (error: unknown) => {
    if (error instanceof ApiError) return { title: `${t('refused')}: ${error.code}`, description: error.message };
    return { title: t('error'), description: (error as Error).message };
  };
  /** `key` names the running action (for its button's loading state); resolves to whether it succeeded. */
  const run = async (key: string, work: () => Promise<string>): Promise<boolean> => {
    busy.value = key;
    try {
      const said = await work();
      toast.add({ title: said, color: 'air-primary-success', class: 'toast-ok' });
      return true;
    } catch (error) {
      toast.add({ ...refusal(error), color: 'air-primary-alert', class: 'toast-refused' });
      return false;
    } finally {
      busy.value = null;
    }
  };
  return { busy, run, refusal };
}
